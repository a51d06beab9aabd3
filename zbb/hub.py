"""Talking to the Hugging Face Hub: what a failed call raises, said in one line, and an up-front access check.

huggingface_hub raises its own errors (`HfHubHTTPError`, `LocalTokenNotFoundError`, both `OSError`s) but lets
the transport's errors through (`httpx.ConnectError`, or `httpx2`'s in huggingface_hub 2.x). `failures()` is the
tuple of all of them, for an `except` clause at a call into the Hub; `reason()` says what went wrong.
"""

from __future__ import annotations

import importlib

TOKEN_HINT = "set HF_TOKEN=hf_... (a token from https://huggingface.co/settings/tokens) or run `hf auth login`"


def failures() -> tuple[type[BaseException], ...]:
    """Every exception type a call into the Hub raises when the network, the token or the Hub fails.

    Evaluated only when an exception is being matched (`except failures():`), so nothing is imported up front.
    """
    return (OSError, ValueError, *_httpx("HTTPError"))  # huggingface_hub's errors; a malformed repo id


def _httpx(name: str) -> tuple[type[BaseException], ...]:
    """The exception class `name` of each httpx installed (huggingface_hub 1.x uses httpx, 2.x httpx2)."""
    found = []
    for module in ("httpx", "httpx2"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def reason(exc: BaseException) -> str:
    """What a failed Hub call says, in one line: no token, a refused token, an HTTP status, or no connection."""
    from huggingface_hub.errors import LocalTokenNotFoundError, RepositoryNotFoundError

    if isinstance(exc, LocalTokenNotFoundError):
        return f"no Hugging Face token found: {TOKEN_HINT}"
    if isinstance(exc, RepositoryNotFoundError):
        return f"no such repo on the Hub, or it is private and the token cannot read it ({TOKEN_HINT})"
    status = _status(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    if status in (401, 403):
        return f"the Hub refused the token (HTTP {status}: {first}): {TOKEN_HINT}"
    if status is not None:
        return f"HTTP {status} from the Hub ({first})"
    if isinstance(exc, _transport_errors()):
        return f"cannot reach the Hugging Face Hub ({type(exc).__name__}: {first}); check the network (or HF_ENDPOINT)"
    return f"{type(exc).__name__}: {first}"


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The errors of a request that got no answer (no connection, a timeout), from either httpx."""
    return (ConnectionError, TimeoutError, *_httpx("TransportError"))


def check_access(token: str | None = None) -> str:
    """The Hub user name `token` (None: HF_TOKEN or the saved login) belongs to; a ZbbError saying what to do when
    there is no token, the Hub refuses it, or the Hub cannot be reached. One request, no retries."""
    from huggingface_hub import HfApi

    from zbb.errors import ZbbError

    try:
        info = HfApi(token=token).whoami()
    except failures() as exc:
        raise ZbbError(reason(exc)) from exc
    return str(info.get("name", "")) if isinstance(info, dict) else ""
