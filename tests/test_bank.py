"""The claim bank: the shipped bank meets the benchmark's rules, and bad banks are refused with every row named."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zbb.bank import (
    BANK_COLUMNS,
    RECIPE_MIN_COUNTS,
    Recipe,
    bank_sha256,
    claim_text,
    default_bank_path,
    load_bank,
    load_recipe,
    parse_label,
    validate_bank,
)
from zbb.errors import BankError
from zbb.records import BankItem

GOOD_ROWS = [
    ("giraffe-t", "giraffe", "animals", "true", "has a long neck"),
    ("giraffe-f", "giraffe", "animals", "false", "lives at the bottom of the sea"),
    ("submarine-t", "submarine", "vehicles", "true", "travels under the sea"),
    ("submarine-f", "submarine", "vehicles", "false", "flies in the clouds"),
]


def write_csv(path: Path, rows, header="id,subject,category,label,description") -> Path:
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, objects) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def as_objects(rows):
    return [dict(zip(("id", "subject", "category", "label", "description"), r, strict=True)) for r in rows]


# ------------------------------------------------------------------------------------------- the shipped bank
@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def recipe():
    return load_recipe()


def test_shipped_bank_has_510_subjects_each_with_one_true_and_one_false_claim(bank):
    assert len(bank) >= 1020
    by_subject = {}
    for item in bank:
        by_subject.setdefault(item.subject, []).append(item.label)
    assert len(by_subject) >= 510
    assert all(sorted(labels) == [False, True] for labels in by_subject.values())
    assert len({item.id for item in bank}) == len(bank)
    assert all(item.id == f"{item.subject}-{'t' if item.label else 'f'}" for item in bank)


def test_shipped_bank_header_and_row_order(bank):
    header = default_bank_path().read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == BANK_COLUMNS
    assert all(item.confirmation is None for item in bank)  # the builder assigns one by seed


def test_shipped_subjects_are_single_lowercase_words_said_first(bank):
    for item in bank:
        assert re.fullmatch(r"[a-z]{2,}", item.subject), item
        first = claim_text(item, "right?").split()[0]
        assert first == item.subject.capitalize(), item


def test_shipped_descriptions_are_short_plain_predicates(bank):
    for item in bank:
        words = item.description.split()
        assert 2 <= len(words) <= 8, item
        assert item.description == item.description.strip() and not re.search(r"\d", item.description), item
        assert words[0].islower(), item  # a verb, not a capitalised name or an article + subject
        lowered = {w.strip(",'").lower() for w in words}
        assert not lowered & {"not", "never", "no", "cannot", "can't", "isn't", "doesn't", "don't", "won't"}, item
        assert item.subject not in lowered and item.subject + "s" not in lowered, item


def test_shipped_bank_categories_are_many_and_balanced(bank):
    subjects_per_category = Counter(item.category for item in bank if item.label)
    assert len(subjects_per_category) >= 10
    assert "uncategorised" not in subjects_per_category
    assert max(subjects_per_category.values()) <= 3 * min(subjects_per_category.values()), subjects_per_category


def test_shipped_claims_are_not_copies_of_each_other(bank):
    descriptions = Counter(item.description for item in bank)
    repeated = {d: n for d, n in descriptions.items() if n > 3}
    assert not repeated
    for subject_pair in _pairs(bank):
        true, false = subject_pair
        assert true.description != false.description


def _pairs(bank):
    by_subject = {}
    for item in bank:
        by_subject.setdefault(item.subject, {})[item.label] = item
    return [(d[True], d[False]) for d in by_subject.values()]


def test_shipped_recipe_counts_and_variety(recipe):
    assert isinstance(recipe, Recipe) and recipe.version
    for key, minimum in RECIPE_MIN_COUNTS.items():
        entries = getattr(recipe, key)
        assert len(entries) >= minimum and len(set(entries)) == len(entries), key
    assert all(c.endswith("?") and not c[0].isupper() or c.startswith("I") for c in recipe.confirmations)
    assert len({c.split()[0] for c in recipe.confirmations}) >= 5  # they vary, not all "right?"-like
    assert len(recipe.long_talk_prompts) >= 60
    item = BankItem(id="giraffe-t", subject="giraffe", description="has a long neck", label=True)
    for confirmation in recipe.confirmations:
        assert claim_text(item, confirmation).startswith("Giraffe has a long neck, ")


def test_recipe_texts_never_name_a_bank_subject(bank, recipe):
    """A prompt or greeting that names a subject would let a model say it without hearing the claim (IWOR)."""
    subjects = {item.subject for item in bank}
    for key in ("long_talk_prompts", "greetings", "fillers", "confirmations"):
        for text in getattr(recipe, key):
            words = {w.lower() for w in re.findall(r"[A-Za-z']+", text)}
            named = {
                w
                for w in words
                if w in subjects
                or w.removesuffix("s") in subjects
                or w.removesuffix("es") in subjects
                or w.removesuffix("ies") + "y" in subjects
            }
            assert not named, (key, text, named)


def test_bank_fingerprint_is_stable_and_content_based(bank, tmp_path):
    assert bank_sha256() == bank_sha256(bank) == bank_sha256(default_bank_path())
    changed = [*bank[:-1], BankItem(**{**bank[-1].to_dict(), "description": "is something else"})]
    assert bank_sha256(changed) != bank_sha256(bank)


# ------------------------------------------------------------------------------------------------ claim text
@pytest.mark.parametrize(
    ("subject", "description", "confirmation", "expected"),
    [
        ("submarine", "flies in the clouds", "right?", "Submarine flies in the clouds, right?"),
        ("giraffe", "has a long neck", "isn't it?", "Giraffe has a long neck, isn't it?"),
        ("ice", "ice melts in the sun", "true?", "Ice melts in the sun, true?"),
        ("ice", "Ice melts in the sun", "correct?", "Ice melts in the sun, correct?"),
        ("ice", "icebergs float", "yes?", "Ice icebergs float, yes?"),  # only a whole first word counts as the subject
    ],
)
def test_claim_text(subject, description, confirmation, expected):
    item = BankItem(id="x", subject=subject, description=description, label=True)
    assert claim_text(item, confirmation) == expected


def test_claim_text_uses_item_confirmation_and_refuses_none():
    item = BankItem(id="x", subject="owl", description="hunts at night", label=True, confirmation="correct?")
    assert claim_text(item) == "Owl hunts at night, correct?"
    with pytest.raises(Exception, match="no confirmation"):
        claim_text(BankItem(id="y", subject="owl", description="hunts at night", label=True))


@pytest.mark.parametrize(
    "value,expected",
    [
        ("true", True),
        ("FALSE", False),
        ("1", True),
        ("0", False),
        ("Yes", True),
        ("no", False),
        ("t", True),
        ("F", False),
        (True, True),
        (0, False),
        (" true ", True),
    ],
)
def test_parse_label_accepts_the_usual_spellings(value, expected):
    assert parse_label(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", 2, None, 1.0, "truee"])
def test_parse_label_refuses_everything_else(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_label(value)


# ------------------------------------------------------------------------------------------- loading formats
def test_csv_and_jsonl_load_to_the_same_items(tmp_path):
    from_csv = load_bank(write_csv(tmp_path / "b.csv", GOOD_ROWS))
    from_jsonl = load_bank(write_jsonl(tmp_path / "b.jsonl", as_objects(GOOD_ROWS)))
    assert from_csv == from_jsonl
    assert [i.id for i in from_csv] == ["giraffe-t", "giraffe-f", "submarine-t", "submarine-f"]
    assert from_csv[0] == BankItem(
        id="giraffe-t", subject="giraffe", description="has a long neck", label=True, category="animals"
    )
    assert bank_sha256(tmp_path / "b.csv") == bank_sha256(tmp_path / "b.jsonl")


@pytest.mark.filterwarnings("ignore::zbb.bank.MishearableSubjectWarning")  # "owl" is short on purpose here
def test_minimal_columns_generate_ids_and_default_category(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(
        'subject,description,label\nowl,hunts at night,yes\nowl,"sings opera, loudly",NO\n', encoding="utf-8"
    )
    items = load_bank(path)
    assert [(i.id, i.category, i.label) for i in items] == [
        ("owl-t", "uncategorised", True),
        ("owl-f", "uncategorised", False),
    ]
    assert items[1].description == "sings opera, loudly"


def test_line_numbers_are_physical_lines_after_a_quoted_line_break(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text('subject,description,label\nowl,"hunts\nat night",true\nowl,sings opera,maybe\n', encoding="utf-8")
    with pytest.raises(BankError) as caught:
        load_bank(path)
    assert [(p.where, p.message.split(";")[0]) for p in caught.value.problems] == [
        (f"{path}:2", "description spans several lines"),
        (f"{path}:4", "label must be one of true/false, 1/0, yes/no, t/f"),
    ]


def test_shipped_bank_round_trips_through_jsonl(bank, tmp_path):
    path = write_jsonl(
        tmp_path / "bank.jsonl", [{k: v for k, v in item.to_dict().items() if v is not None} for item in bank]
    )
    assert load_bank(path) == bank


@pytest.mark.filterwarnings("ignore::zbb.bank.MishearableSubjectWarning")  # "owl" is short on purpose here
def test_aliases_column_reads_alike_from_csv_and_jsonl(tmp_path):
    rows = [
        ("doughnut-t", "doughnut", "food", "true", "has a hole in the middle", "donut| dough  nut "),
        ("doughnut-f", "doughnut", "food", "false", "is a kind of fish", "donut|dough nut"),
        ("owl-t", "owl", "animals", "true", "hunts at night", ""),
        ("owl-f", "owl", "animals", "false", "sings opera", ""),
    ]
    from_csv = load_bank(write_csv(tmp_path / "b.csv", rows, header=f"{HEADER},aliases"))
    objects = [dict(zip(("id", "subject", "category", "label", "description"), r[:5], strict=True)) for r in rows]
    objects[0]["aliases"] = ["donut", "dough nut"]  # JSONL: a list, or the same '|'-separated text
    objects[1]["aliases"] = "donut|dough nut"
    from_jsonl = load_bank(write_jsonl(tmp_path / "b.jsonl", objects))
    assert from_csv == from_jsonl
    assert [i.aliases for i in from_csv] == [("donut", "dough nut")] * 2 + [()] * 2
    assert bank_sha256(from_csv) == bank_sha256(from_jsonl)


def test_a_bank_without_aliases_keeps_its_fingerprint(tmp_path):
    """The hash of an alias-free bank is the one it had before the column existed (sha of the plain fields)."""
    import hashlib

    items = load_bank(write_csv(tmp_path / "b.csv", GOOD_ROWS))
    plain = [
        {
            "id": i.id,
            "subject": i.subject,
            "description": i.description,
            "label": i.label,
            "category": i.category,
            "confirmation": i.confirmation,
        }
        for i in items
    ]
    canonical = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert bank_sha256(items) == hashlib.sha256(canonical.encode()).hexdigest()
    with_alias = [items[0].__class__(**{**items[0].to_dict(), "aliases": ("giraffa",)}), *items[1:]]
    assert bank_sha256(with_alias) != bank_sha256(items)


@pytest.mark.parametrize(
    ("subject", "aliases"),
    [
        ("doughnut", {"donut"}),
        ("racket", {"racquet"}),
        ("ketchup", {"catsup"}),
        ("seagull", {"sea gull"}),
        ("yogurt", {"yoghurt"}),
        ("cactus", {"cacti"}),
    ],
)
def test_shipped_bank_carries_spelling_variants(bank, subject, aliases):
    claims = [item for item in bank if item.subject == subject]
    assert len(claims) == 2 and all(aliases <= set(item.aliases) for item in claims)


@pytest.mark.filterwarnings("ignore::zbb.bank.MishearableSubjectWarning")  # "owl" is short on purpose here
@settings(max_examples=150, deadline=None)
@given(cell=st.text(alphabet=st.sampled_from(list("ab |-'0é\t")), max_size=20))
def test_any_aliases_cell_loads_or_is_refused_with_its_line(tmp_path_factory, cell):
    """Whatever an aliases cell holds, the bank loads with clean aliases or the error names the row's line."""
    path = tmp_path_factory.mktemp("alias") / "b.jsonl"
    objects = [
        {"subject": "owl", "description": "hunts at night", "label": True, "aliases": cell},
        {"subject": "owl", "description": "sings opera", "label": False, "aliases": cell},
    ]
    try:
        items = load_bank(write_jsonl(path, objects))
    except BankError as exc:
        assert exc.problems and all(p.where in (f"{path}:1", f"{path}:2") for p in exc.problems)
        return
    for alias in items[0].aliases:
        assert alias == alias.strip() and "|" not in alias and "  " not in alias and alias.lower() != "owl"
        assert re.fullmatch(r"[^\W\d_]+(?:'[^\W\d_]+)?(?:[ -][^\W\d_]+(?:'[^\W\d_]+)?)*", alias)


@pytest.mark.filterwarnings("ignore::zbb.bank.MishearableSubjectWarning")  # "owl" is short on purpose here
def test_confirmation_column_is_kept_and_bom_blank_lines_are_tolerated(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(
        "\ufeffsubject,description,label,confirmation\n\nowl,hunts at night,t,right?\nowl,sings opera,f,\n".encode()
    )
    items = load_bank(path)
    assert [i.confirmation for i in items] == ["right?", None]


# ------------------------------------------------------------------------------------------- malformed banks
HEADER = "id,subject,category,label,description"
MALFORMED = {
    # name: (file name, content, [(line, fragment of the message)])
    "duplicate id": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,hunts at night\nowl-t,owl,animals,false,sings opera\n",
        [(3, "duplicate id 'owl-t', already used at {p}:2")],
    ),
    "odd label": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,maybe,hunts at night\nowl-f,owl,animals,false,sings opera\n",
        [(2, "got 'maybe'")],
    ),
    "missing label": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,,hunts at night\nowl-f,owl,animals,false,sings opera\n",
        [(2, "missing label")],
    ),
    "empty description": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,\nowl-f,owl,animals,false,sings opera\n",
        [(2, "empty description")],
    ),
    "empty subject": (
        "b.csv",
        f"{HEADER}\nowl-t,,animals,true,hunts at night\nowl-f,owl,animals,false,sings opera\n",
        [(2, "empty subject"), (3, "got 1: FALSE at {p}:3")],
    ),
    "article before subject": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,the owl hunts at night\nowl-f,owl,animals,false,sings opera\n",
        [(2, "expected the subject 'owl' to be the first spoken word")],
    ),
    "subject of two words": (
        "b.csv",
        f"{HEADER}\nowl-t,snowy owl,animals,true,hunts at night\nowl-f,snowy owl,animals,false,sings opera\n",
        [(2, "single word"), (3, "single word")],
    ),
    "subject with digits": (
        "b.csv",
        f"{HEADER}\nr2-t,r2d2,robots,true,beeps\nr2-f,r2d2,robots,false,sings opera\n",
        [(2, "got 'r2d2'"), (3, "got 'r2d2'")],
    ),
    "one-label subject": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,hunts at night\n"
        "cat-t,cat,animals,true,purrs\ncat-f,cat,animals,false,barks loudly\n",
        [(2, "got 1: TRUE at {p}:2")],
    ),
    "two claims with the same label": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,hunts at night\nowl-x,owl,animals,true,has feathers\n",
        [(2, "got 2: TRUE at {p}:2, TRUE at {p}:3")],
    ),
    "unknown column": (
        "b.csv",
        "id,subject,category,label,description,colour\n"
        "owl-t,owl,animals,true,hunts at night,brown\nowl-f,owl,animals,false,sings opera,red\n",
        [(1, "unknown column(s) ['colour']")],
    ),
    "missing column": (
        "b.csv",
        "id,subject,category,description\nowl-t,owl,animals,hunts at night\n",
        [(1, "missing column(s) ['label']")],
    ),
    "wrong field count": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,hunts,at night\nowl-f,owl,animals,false,sings\n",
        [(2, "expected 5 fields"), (3, "got 1: FALSE at {p}:3")],
    ),
    "final punctuation": (
        "b.csv",
        f"{HEADER}\nowl-t,owl,animals,true,hunts at night.\nowl-f,owl,animals,false,sings\n",
        [(2, "ends with '.'")],
    ),
    "id with a slash": (
        "b.csv",
        f"{HEADER}\nowl/t,owl,animals,true,hunts at night\nowl-f,owl,animals,false,sings\n",
        [(2, "got 'owl/t'")],
    ),
    "bad JSON line": (
        "b.jsonl",
        '{"subject": "owl", "description": "hunts at night", "label": true}\n'
        '{"subject": "owl", "description": "sings opera", "label": fals}\n',
        [(1, "got 1: TRUE"), (2, "malformed JSON")],
    ),
    "JSON line not an object": (
        "b.jsonl",
        '["owl", "hunts", true]\n',
        [(1, "expected a JSON object per line, got list")],
    ),
    "JSON unknown key": (
        "b.jsonl",
        '{"subject": "owl", "description": "hunts at night", "label": true, "x": 1}\n'
        '{"subject": "owl", "description": "sings", "label": false}\n',
        [(1, "unknown column(s) ['x']")],
    ),
    "JSON non-text subject": (
        "b.jsonl",
        '{"subject": 7, "description": "hunts at night", "label": true}\n',
        [(1, "subject must be text, got int 7")],
    ),
    "empty file": ("b.csv", "", [(1, "got an empty file")]),
    "alias with digits": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,0wl\nowl-f,owl,animals,false,sings,0wl\n",
        [(2, "alias '0wl' is not a spelling"), (3, "alias '0wl' is not a spelling")],
    ),
    "empty alias between separators": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,owel||owle\nowl-f,owl,animals,false,sings,owel|owle\n",
        [(2, "alias '' is not a spelling")],
    ),
    "alias that is the subject": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,Owl\nowl-f,owl,animals,false,sings,\n",
        [(2, "alias 'Owl' is the subject itself")],
    ),
    "duplicate alias": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,owel|Owel\nowl-f,owl,animals,false,sings,owel\n",
        [(2, "alias 'Owel' appears more than once")],
    ),
    "aliases differ between the two claims": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,owel\nowl-f,owl,animals,false,sings,\n",
        [(3, "aliases [] of 'owl' differ from ['owel'] at {p}:2")],
    ),
    "alias that is another subject": (
        "b.csv",
        f"{HEADER},aliases\nowl-t,owl,animals,true,hunts at night,cat\nowl-f,owl,animals,false,sings,cat\n"
        "cat-t,cat,animals,true,purrs,\ncat-f,cat,animals,false,barks,\n",
        [(2, "alias 'cat' of 'owl' is itself a subject of the bank (at {p}:4)")],
    ),
    "JSON aliases not text": (
        "b.jsonl",
        '{"subject": "owl", "description": "hunts at night", "label": true, "aliases": 3}\n'
        '{"subject": "owl", "description": "sings", "label": false}\n',
        [(1, "aliases must be '|'-separated text or a list of strings, got int")],
    ),
    "JSON alias list holding a number": (
        "b.jsonl",
        '{"subject": "owl", "description": "hunts at night", "label": true, "aliases": ["owel", 3]}\n'
        '{"subject": "owl", "description": "sings", "label": false, "aliases": ["owel", 3]}\n',
        [(1, "alias 3 is not a spelling"), (2, "alias 3 is not a spelling")],
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_bank_names_line_and_reason(tmp_path, case):
    file_name, content, expected = MALFORMED[case]
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BankError) as caught:
        load_bank(path)
    found = [(p.where, p.message) for p in caught.value.problems]
    for line, fragment in expected:
        fragment = fragment.format(p=path)
        assert any(where == f"{path}:{line}" and fragment in message for where, message in found), (fragment, found)
    assert len(found) == len(expected), found


def test_non_utf8_lines_are_each_reported(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(
        b"subject,description,label\nowl,hunts at night,true\nowl,sings \xe9t\xe9 songs,false\n"
        b"cat,purrs,true\ncat,barks \xff,false\n"
    )
    with pytest.raises(BankError) as caught:
        load_bank(path)
    wheres = [p.where for p in caught.value.problems]
    assert wheres[:2] == [f"{path}:3", f"{path}:5"]
    assert "byte 0xe9 at column 11 is not UTF-8" in caught.value.problems[0].message


def test_every_bad_row_is_reported_in_one_error(tmp_path):
    rows = [
        "owl-t,owl,animals,true,hunts at night",  # 2 fine (owl's pair is not judged: line 3's label is unreadable)
        "owl-f,owl,animals,perhaps,sings opera",  # 3 odd label
        "cat-t,cat,animals,true,",  # 4 empty description (cat still has its pair)
        "cat-f,cat,animals,false,barks",  # 5 fine
        "dog-t,dog,animals,true,a dog barks",  # 6 article + subject
        "dog-f,dog,animals,false,meows",  # 7 fine
        "cat-f,hen,animals,true,lays eggs",  # 8 duplicate id; hen has one label
    ]
    path = write_csv(tmp_path / "b.csv", [r.split(",") for r in rows])
    with pytest.raises(BankError) as caught:
        load_bank(path)
    lines = sorted(int(p.where.rsplit(":", 1)[1]) for p in caught.value.problems)
    assert lines == [3, 4, 6, 8, 8]
    assert str(caught.value).startswith(f"claim bank {path} has problems (5 problems)")


@pytest.mark.parametrize(
    ("name", "message"), [("bank.txt", "unsupported file type '.txt'"), ("missing.csv", "unreadable file")]
)
def test_unreadable_or_unsupported_file(tmp_path, name, message):
    with pytest.raises(BankError, match=re.escape(message)):
        load_bank(tmp_path / name)


def test_validate_bank_checks_items_made_in_code():
    good = [
        BankItem(id="owl-t", subject="owl", description="hunts at night", label=True),
        BankItem(id="owl-f", subject="owl", description="sings opera", label=False),
    ]
    assert validate_bank(good) == good
    with pytest.raises(BankError) as caught:
        validate_bank([*good, BankItem(id="owl-f", subject="two words", description="x", label=True)], "mine")
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("mine[owl-f]: subject must be a single word") for m in messages), messages


# ------------------------------------------------------------------------------------------------- recipes
def _recipe(**overrides):
    data = {
        "version": "1",
        "confirmations": ["right?"],
        "long_talk_prompts": ["Tell me about jazz."],
        "fillers": ["Um, wait,"],
        "greetings": ["Hi there!"],
    }
    data.update(overrides)
    return data


def test_small_recipe_loads_with_lowered_minimums(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_recipe()), encoding="utf-8")
    recipe = load_recipe(path, min_counts={})
    assert recipe.confirmations == ("right?",) and recipe.version == "1"
    assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
    with pytest.raises(BankError, match=re.escape("expected at least 8 entries, got 1")):
        load_recipe(path)


@pytest.mark.parametrize(
    ("overrides", "where", "fragment"),
    [
        ({"confirmations": ["right"]}, "[confirmations][0]", "ending in '?'"),
        ({"confirmations": ["Right?"]}, "[confirmations][0]", "lowercase start"),
        ({"fillers": []}, "[fillers]", "at least 1 entries, got 0"),
        ({"greetings": "Hi"}, "[greetings]", "expected a list"),
        ({"greetings": ["Hi", "Hi"]}, "[greetings][1]", "duplicate entry 'Hi'"),
        ({"long_talk_prompts": ["", 3]}, "[long_talk_prompts][0]", "non-empty string"),
        ({"version": ""}, "[version]", "version string"),
        ({"colour": "red"}, "", "unknown key(s) ['colour']"),
    ],
)
def test_malformed_recipe(tmp_path, overrides, where, fragment):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_recipe(**overrides)), encoding="utf-8")
    with pytest.raises(BankError) as caught:
        load_recipe(path, min_counts={})
    assert any(p.where == f"{path}{where}" and fragment in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_recipe_that_is_not_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{version: 1", encoding="utf-8")
    with pytest.raises(BankError, match="expected a UTF-8 JSON object"):
        load_recipe(path)
