"""The claim bank and build recipe: read them, check every row, and say how a claim is spoken.

A bank is a CSV or JSONL file of claims, one row each, with columns `subject, description, label` and optionally
`category, id, confirmation, aliases`. Every subject has exactly one TRUE and one FALSE claim. The spoken claim is
`<Subject> <description>, <confirmation>` ("Submarine flies in the clouds, right?"): the subject is its very
first word, which is what makes the benchmark zero-buffer. An optional `aliases` column lists other accepted
spellings of the subject, `|`-separated ("donut", "sea gull|seagul" ...; a JSON list in JSONL), which IWOR counts
as the subject.

The recipe (`builders/recipe.json`) holds the other texts a build needs: confirmations, long-talk prompts,
fillers and greetings.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from zbb.errors import BankError, Problem, ZbbError, ZbbWarning
from zbb.io import JsonInputError, jsonl_objects, read_json
from zbb.records import BankItem, Record

REQUIRED_COLUMNS = ("subject", "description", "label")
OPTIONAL_COLUMNS = ("category", "id", "confirmation", "aliases")
BANK_COLUMNS = ("id", "subject", "category", "label", "description", "confirmation", "aliases")  # shipped CSV order
DEFAULT_CATEGORY = "uncategorised"

_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n"})
_ARTICLES = frozenset({"a", "an", "the"})
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # row keys end up in file and folder names
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # letters, with an optional apostrophe ("giraffe's")
#: an alias: words of letters joined by single spaces or hyphens ("donut", "sea gull", "fire-fighter")
_ALIAS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?(?:[ -][^\W\d_]+(?:'[^\W\d_]+)?)*")
ALIAS_SEPARATOR = "|"
MAX_ALIASES = 8

#: The fewest entries each recipe list must have (`load_recipe(min_counts=...)` can lower them for tests).
RECIPE_MIN_COUNTS: Mapping[str, int] = {"confirmations": 8, "long_talk_prompts": 60, "fillers": 6, "greetings": 12}


#: Version of the shipped bank: 2 = no subject a listener can mishear (homophones, flaps, very short words
#: replaced, checked against the CMU Pronouncing Dictionary), categories fixed, US English spelling.
BANK_VERSION = "2"


def bank_version(sha256: str) -> str:
    """BANK_VERSION when `sha256` is the shipped bank's content hash, else "custom"."""
    return BANK_VERSION if sha256 == _shipped_bank_sha256() else "custom"


@functools.cache
def _shipped_bank_sha256() -> str:
    return bank_sha256(None)


def default_bank_path() -> Path:
    """The bank shipped with zbb (`builders/bank.csv`, installed as `zbb.builders`)."""
    return Path(str(files("zbb.builders") / "bank.csv"))


def default_recipe_path() -> Path:
    """The build recipe shipped with zbb (`builders/recipe.json`)."""
    return Path(str(files("zbb.builders") / "recipe.json"))


# ------------------------------------------------------------------------------------------------ labels, text
def parse_label(value: Any) -> bool:
    """Read a claim label: true/false, 1/0, yes/no, t/f, y/n (any case), or a JSON boolean.

    Raises ValueError naming the value for anything else (the loader turns it into a located Problem).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"label must be one of true/false, 1/0, yes/no, t/f; got {value!r}")


def _first_word(text: str) -> str:
    match = _WORD.match(text.strip())
    return match.group(0).lower() if match else ""


def claim_text(item: BankItem, confirmation: str | None = None) -> str:
    """The spoken claim, subject first: "Submarine flies in the clouds, right?".

    `confirmation` defaults to the item's own; one of the two must be given. A description that already starts
    with the subject word ("submarine travels under the sea") is not prefixed with it a second time.
    """
    confirmation = (confirmation if confirmation is not None else item.confirmation or "").strip()
    if not confirmation:
        raise ZbbError(
            f"claim_text[{item.id}]: no confirmation given and the item has none; expected a question such as 'right?'"
        )
    description = item.description.strip()
    body = description if _first_word(description) == item.subject.lower() else f"{item.subject} {description}"
    return f"{body[:1].upper()}{body[1:]}, {confirmation}"


# ------------------------------------------------------------------------------------------------ reading rows
@dataclass(frozen=True)
class _Row:
    """One parsed record before validation: its physical line and raw field values."""

    line: int
    fields: dict[str, Any]
    encoding_ok: bool = True


def _decode(data: bytes, name: str, problems: list[Problem]) -> tuple[str, set[int]]:
    """Decode UTF-8 line by line so every non-UTF-8 line is reported, not just the first."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # BOM written by spreadsheet exports
    try:
        return data.decode("utf-8"), set()
    except UnicodeDecodeError:
        pass
    bad: set[int] = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.add(number)
            problems.append(
                Problem(
                    f"{name}:{number}",
                    f"expected UTF-8 text; byte {raw[exc.start]:#04x} at "
                    f"column {exc.start + 1} is not UTF-8 (re-save the file as UTF-8)",
                )
            )
    return data.decode("utf-8", errors="replace"), bad


def _read_csv(text: str, name: str, bad_lines: set[int], problems: list[Problem]) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[_Row] = []
    previous_end = 0
    header: list[str] | None = None
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                if not _check_columns(header, f"{name}:{start}", problems):
                    return []
                continue
            where = f"{name}:{start}"
            if len(record) != len(header):
                problems.append(
                    Problem(where, f"expected {len(header)} fields ({', '.join(header)}), got {len(record)}")
                )
                continue
            ok = not any(n in bad_lines for n in range(start, reader.line_num + 1))
            rows.append(_Row(start, dict(zip(header, record, strict=False)), ok))
    except csv.Error as exc:
        problems.append(
            Problem(
                f"{name}:{reader.line_num}",
                f"malformed CSV ({exc}); expected comma-separated fields with balanced double quotes",
            )
        )
    if header is None:
        problems.append(
            Problem(f"{name}:1", f"expected a header row ({', '.join(REQUIRED_COLUMNS)}, ...), got an empty file")
        )
    return rows


def _check_columns(columns: Sequence[str], where: str, problems: list[Problem]) -> bool:
    """Report unknown, duplicate and missing columns; False when rows cannot be read at all."""
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unknown = [c for c in columns if c not in known]
    if unknown:
        problems.append(
            Problem(
                where,
                f"unknown column(s) {unknown}; expected {list(REQUIRED_COLUMNS)} and "
                f"optionally {list(OPTIONAL_COLUMNS)}",
            )
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        problems.append(Problem(where, f"column(s) {duplicated} appear more than once; expected each once"))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(Problem(where, f"missing column(s) {missing}; got {list(columns)}"))
    return not missing and not duplicated


def _read_jsonl(text: str, name: str, bad_lines: set[int], problems: list[Problem]) -> list[_Row]:
    rows: list[_Row] = []
    for number, obj in jsonl_objects(text, name, problems):
        where = f"{name}:{number}"
        columns = [str(k).strip().lower() for k in obj]
        if not _check_columns(columns, where, problems):
            continue
        rows.append(_Row(number, {str(k).strip().lower(): v for k, v in obj.items()}, number not in bad_lines))
    if not rows and not problems:
        problems.append(
            Problem(f"{name}:1", "expected at least one claim (one JSON object per line), got an empty file")
        )
    return rows


# ------------------------------------------------------------------------------------------------- validation
def _text_field(fields: dict[str, Any], column: str, where: str, problems: list[Problem]) -> str | None:
    """The stripped text of a cell ("" when absent); None, reported, when a JSON value is not text."""
    value = fields.get(column)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(Problem(where, f"{column} must be text, got {type(value).__name__} {value!r}"))
        return None
    return value.strip()


def _aliases_field(fields: dict[str, Any], subject: str, where: str, problems: list[Problem]) -> tuple[str, ...]:
    """The row's aliases: a `|`-separated cell (CSV, or a JSON string) or a JSON list of strings; each a word or
    words of letters, distinct, and not the subject itself. Problems are reported at `where`."""
    value = fields.get("aliases")
    if value is None:
        return ()
    if isinstance(value, str):
        entries: list[Any] = value.split(ALIAS_SEPARATOR) if value.strip() else []
    elif isinstance(value, (list, tuple)):
        entries = list(value)
    else:
        problems.append(
            Problem(where, f"aliases must be '|'-separated text or a list of strings, got {type(value).__name__}")
        )
        return ()
    aliases: list[str] = []
    for entry in entries:
        alias = " ".join(entry.split()) if isinstance(entry, str) else entry
        if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
            problems.append(
                Problem(
                    where,
                    f"alias {entry!r} is not a spelling of the subject; expected words of letters such as 'donut' "
                    "or 'sea gull', separated by '|'",
                )
            )
        elif alias.lower() == subject.lower():
            problems.append(Problem(where, f"alias {alias!r} is the subject itself; expected another spelling"))
        elif alias.lower() in (a.lower() for a in aliases):
            problems.append(Problem(where, f"alias {alias!r} appears more than once; expected each alias once"))
        else:
            aliases.append(alias)
    if len(aliases) > MAX_ALIASES:
        problems.append(Problem(where, f"expected at most {MAX_ALIASES} aliases, got {len(aliases)}"))
    return tuple(aliases)


@dataclass(frozen=True)
class _Key:
    """What the cross-row checks need from a row: its id, subject, label (None when unreadable) and aliases."""

    where: str
    id: str | None
    subject: str
    label: bool | None
    aliases: tuple[str, ...] = ()


def _row_to_item(row: _Row, where: str, problems: list[Problem]) -> tuple[BankItem | None, _Key | None]:
    """Check one row's fields, reporting each problem at `where`.

    Returns the item (None if the row is unusable) and the row's key for the id and pair checks (None when its
    subject is unusable, so one bad cell does not also show up as a broken pair).
    """
    before = len(problems)
    f = row.fields
    subject = _text_field(f, "subject", where, problems)
    description = _text_field(f, "description", where, problems)
    category = _text_field(f, "category", where, problems) or DEFAULT_CATEGORY
    confirmation = _text_field(f, "confirmation", where, problems) or None
    given_id = _text_field(f, "id", where, problems) or ""
    aliases = _aliases_field(f, subject or "", where, problems)

    label: bool | None = None
    raw_label = f.get("label")
    if raw_label is None or (isinstance(raw_label, str) and not raw_label.strip()):
        problems.append(Problem(where, "missing label; expected true or false"))
    else:
        try:
            label = parse_label(raw_label)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))

    if subject == "":
        problems.append(Problem(where, "empty subject; expected one word such as 'giraffe'"))
    elif subject is not None and not subject.isalpha():
        problems.append(
            Problem(where, f"subject must be a single word of letters (it is the first spoken word), got {subject!r}")
        )
    subject = subject or ""  # None (not text) was reported above
    if description is None:
        description = ""
    elif not description:
        problems.append(Problem(where, "empty description; expected a predicate such as 'has a long neck'"))
    else:
        words = description.split()
        if not _WORD.match(description):
            problems.append(
                Problem(
                    where,
                    f"description must start with a word (it is spoken right after the subject), got {description!r}",
                )
            )
        elif subject and words[0].lower() in _ARTICLES and len(words) > 1 and _first_word(words[1]) == subject.lower():
            problems.append(
                Problem(
                    where,
                    f"description {description!r} starts with {words[0]!r} before the "
                    f"subject; expected the subject {subject!r} to be the first spoken word "
                    f"(write e.g. {' '.join(words[2:])!r})",
                )
            )
        if "\n" in description or "\r" in description:
            problems.append(Problem(where, "description spans several lines; expected one line of text"))
        if description[-1] in ".,;:!?":
            problems.append(
                Problem(
                    where,
                    f"description ends with {description[-1]!r}; expected no final "
                    "punctuation (', <confirmation>' follows it)",
                )
            )
    if confirmation is not None and not confirmation.endswith("?"):
        problems.append(Problem(where, f"confirmation must be a question ending in '?', got {confirmation!r}"))
    if given_id and not _ID.fullmatch(given_id):
        problems.append(
            Problem(where, f"id must be letters, digits, '.', '_' or '-' (it names files), got {given_id!r}")
        )
    if not row.encoding_ok:  # already reported as non-UTF-8; its garbled text would only add noise
        del problems[before:]

    usable_subject = subject.isalpha()
    item_id = given_id or (
        f"{subject.lower()}-{'t' if label else 'f'}" if usable_subject and label is not None else None
    )
    key = _Key(where, item_id, subject.lower(), label, tuple(a.lower() for a in aliases)) if usable_subject else None
    if len(problems) > before or label is None or not row.encoding_ok:
        return None, key
    item = BankItem(
        id=item_id or "",
        subject=subject,
        description=description,
        label=label,
        category=category,
        confirmation=confirmation,
        aliases=aliases,
    )
    return item, key


def _check_pairs(keys: Sequence[_Key], problems: list[Problem]) -> None:
    """Unique ids, exactly one TRUE and one FALSE claim per subject (case-insensitive), the same aliases on both,
    and no alias that is another subject of the bank."""
    first_seen: dict[str, str] = {}
    for key in keys:
        if key.id is None:
            continue
        if key.id in first_seen:
            problems.append(
                Problem(
                    key.where, f"duplicate id {key.id!r}, already used at {first_seen[key.id]}; expected every id once"
                )
            )
        else:
            first_seen[key.id] = key.where
    by_subject: dict[str, list[_Key]] = {}
    for key in keys:
        by_subject.setdefault(key.subject, []).append(key)
    for subject, claims in by_subject.items():
        for key in claims[1:]:
            if sorted(key.aliases) != sorted(claims[0].aliases):
                problems.append(
                    Problem(
                        key.where,
                        f"aliases {list(key.aliases)} of {subject!r} differ from {list(claims[0].aliases)} at "
                        f"{claims[0].where}; expected the same aliases on every claim of a subject",
                    )
                )
        for key in claims[:1]:
            for alias in key.aliases:
                if alias in by_subject and alias != subject:
                    problems.append(
                        Problem(
                            key.where,
                            f"alias {alias!r} of {subject!r} is itself a subject of the bank (at "
                            f"{by_subject[alias][0].where}); expected a spelling only this subject has",
                        )
                    )
        labels = [key.label for key in claims]
        if None in labels or sorted(label for label in labels if label is not None) == [
            False,
            True,
        ]:  # an unreadable label is reported on its own row
            continue
        got = ", ".join(f"{'TRUE' if key.label else 'FALSE'} at {key.where}" for key in claims)
        problems.append(
            Problem(
                claims[0].where,
                f"subject {subject!r} needs exactly one TRUE and one FALSE claim, got {len(claims)}: {got}",
            )
        )


def validate_bank(items: Iterable[BankItem], source: str = "<bank>") -> list[BankItem]:
    """Check items made in code by the same rules as a bank file; return them or raise BankError.

    Problems are located as `<source>[<item id>]` (there are no lines).
    """
    items = list(items)
    problems: list[Problem] = []
    keys: list[_Key] = []
    for item in items:
        _, key = _row_to_item(_Row(0, item.to_dict()), f"{source}[{item.id}]", problems)
        if key is not None:
            keys.append(key)
    _check_pairs(keys, problems)
    if not items:
        problems.append(Problem(source, "expected at least one claim, got none"))
    if problems:
        raise BankError(f"claim bank {source} has problems", problems)
    return items


def load_bank(path: str | Path | None = None) -> list[BankItem]:
    """Read a claim bank (`.csv` or `.jsonl`; None = the bank shipped with zbb), checking every row.

    Raises BankError listing every problem at once, each located as `<file>:<line>` (physical lines; the CSV
    header is line 1).
    """
    path = default_bank_path() if path is None else Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise BankError(
            f"cannot read claim bank {name}",
            [Problem(name, f"unsupported file type {path.suffix or '(none)'!r}; expected .csv or .jsonl")],
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BankError(
            f"cannot read claim bank {name}",
            [Problem(name, f"unreadable file ({exc.strerror or exc}); expected a readable {suffix} file")],
        ) from exc
    problems: list[Problem] = []
    text, bad_lines = _decode(data, name, problems)
    reader = _read_csv if suffix == ".csv" else _read_jsonl
    rows = reader(text, name, bad_lines, problems)
    items: list[BankItem] = []
    keys: list[_Key] = []
    for row in rows:
        item, key = _row_to_item(row, f"{name}:{row.line}", problems)
        items += [item] if item is not None else []
        keys += [key] if key is not None else []
    _check_pairs(keys, problems)
    if problems:
        problems.sort(key=lambda p: _line_of(p.where))
        raise BankError(f"claim bank {name} has problems", problems)
    if path != default_bank_path():  # the shipped bank is checked by its tests; a user's is checked here
        warn_mishearable(items, name)
    return items


class MishearableSubjectWarning(ZbbWarning):
    """A bank subject sounds like another common word, or is very short (see zbb.homophones)."""


def warn_mishearable(items: Sequence[BankItem], source: str) -> list[str]:
    """Warn (once per subject) about subjects a listener can mishear; returns the messages."""
    import warnings

    from zbb.homophones import confusions

    messages: list[str] = []
    seen: set[str] = set()
    for item in items:
        subject = item.subject.lower()
        if subject in seen:
            continue
        seen.add(subject)
        found = confusions(subject)
        if found:
            messages.append(f"{source}: item {item.id}: subject {'; '.join(str(c) for c in found)}")
    if messages:  # one warning for the whole bank, listing every subject
        warnings.warn(
            f"{len(messages)} subject(s) a listener may mishear:\n  - " + "\n  - ".join(messages),
            MishearableSubjectWarning,
            stacklevel=3,
        )
    return messages


def _line_of(where: str) -> int:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def bank_sha256(source: str | Path | Sequence[BankItem] | None = None) -> str:
    """A fingerprint of the bank's content (ids, subjects, texts, labels, categories, confirmations, in order).

    The same claims give the same hash whether they come from CSV or JSONL, so it identifies the content, not
    the file format; a bank without aliases hashes as it did before the column existed. `source` is a bank path
    (None = the shipped bank) or already-loaded items.
    """
    items = load_bank(source) if source is None or isinstance(source, (str, Path)) else list(source)
    records = [{k: v for k, v in item.to_dict().items() if k != "aliases" or v} for item in items]
    canonical = json.dumps(records, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------------------------- recipe
@dataclass(frozen=True)
class Recipe(Record):
    """The texts a build draws from besides the claims.

    `confirmations` end a claim after a comma ("right?"); `long_talk_prompts` make the model talk at length
    before an interruption; `fillers` precede the claim in the buffered condition ("Um, wait, hold on,");
    `greetings` are the short openers of the no-interrupt condition. `prompt_topics` (optional) tags a long-talk
    prompt with the bank categories it is about, so the builder never puts it before a claim of that category.
    """

    version: str
    confirmations: tuple[str, ...]
    long_talk_prompts: tuple[str, ...]
    fillers: tuple[str, ...]
    greetings: tuple[str, ...]
    prompt_topics: dict[str, tuple[str, ...]] = field(default_factory=dict)


_RECIPE_LISTS = ("confirmations", "long_talk_prompts", "fillers", "greetings")


def load_recipe(path: str | Path | None = None, *, min_counts: Mapping[str, int] = RECIPE_MIN_COUNTS) -> Recipe:
    """Read and check a build recipe (None = the one shipped with zbb); raise BankError listing every problem."""
    path = default_recipe_path() if path is None else Path(path)
    name = str(path)
    try:
        data = read_json(path.read_bytes(), name)
    except OSError as exc:
        raise BankError(
            f"cannot read recipe {name}", [Problem(name, f"unreadable file ({exc.strerror or exc})")]
        ) from exc
    except JsonInputError as exc:
        raise BankError(
            f"cannot read recipe {name}", [Problem(exc.where, f"expected a UTF-8 JSON object: {exc.message}")]
        ) from exc
    if not isinstance(data, dict):
        raise BankError(
            f"cannot read recipe {name}", [Problem(name, f"expected a JSON object, got {type(data).__name__}")]
        )
    problems: list[Problem] = []
    expected = {"version", "prompt_topics", *_RECIPE_LISTS}
    unknown = sorted(set(data) - expected)
    if unknown:
        problems.append(Problem(name, f"unknown key(s) {unknown}; expected {sorted(expected)}"))
    version = data.get("version")
    if not isinstance(version, (str, int)) or isinstance(version, bool) or str(version).strip() == "":
        problems.append(Problem(f"{name}[version]", f"expected a version string, got {version!r}"))
    lists: dict[str, tuple[str, ...]] = {}
    for key in _RECIPE_LISTS:
        lists[key] = _recipe_list(data.get(key), key, name, max(1, min_counts.get(key, 1)), problems)
    topics = _prompt_topics(data.get("prompt_topics", {}), lists["long_talk_prompts"], name, problems)
    if problems:
        raise BankError(f"recipe {name} has problems", problems)
    return Recipe(version=str(version), **lists, prompt_topics=topics)


def _prompt_topics(
    value: Any, prompts: Sequence[str], name: str, problems: list[Problem]
) -> dict[str, tuple[str, ...]]:
    where = f"{name}[prompt_topics]"
    if not isinstance(value, dict):
        problems.append(
            Problem(where, f"expected an object of prompt -> list of categories, got {type(value).__name__}")
        )
        return {}
    topics: dict[str, tuple[str, ...]] = {}
    for prompt, tags in value.items():
        if prompt not in prompts:
            problems.append(Problem(f"{where}[{prompt!r}]", "expected a prompt listed in long_talk_prompts"))
        elif not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            problems.append(Problem(f"{where}[{prompt!r}]", f"expected a list of category names, got {tags!r}"))
        else:
            topics[prompt] = tuple(t.strip() for t in tags)
    return topics


def _recipe_list(value: Any, key: str, name: str, minimum: int, problems: list[Problem]) -> tuple[str, ...]:
    where = f"{name}[{key}]"
    if not isinstance(value, list):
        problems.append(
            Problem(
                where,
                f"expected a list of at least {minimum} strings, got "
                f"{type(value).__name__ if value is not None else 'nothing'}",
            )
        )
        return ()
    texts: list[str] = []
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            problems.append(Problem(f"{where}[{i}]", f"expected a non-empty string, got {entry!r}"))
            continue
        text = entry.strip()
        if text in texts:
            problems.append(Problem(f"{where}[{i}]", f"duplicate entry {text!r}; expected distinct entries"))
        if key == "confirmations":
            if not text.endswith("?"):
                problems.append(Problem(f"{where}[{i}]", f"expected a question ending in '?', got {text!r}"))
            if text[0].isupper() and _first_word(text) not in ("i", "i'm"):
                problems.append(
                    Problem(f"{where}[{i}]", f"expected a lowercase start (it follows a comma), got {text!r}")
                )
        texts.append(text)
    if len(value) < minimum:
        problems.append(Problem(where, f"expected at least {minimum} entries, got {len(value)}"))
    return tuple(texts)
