"""The benchmark's input conditions (one dataset config each) and the steered run label."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

NO_INTERRUPT = "no_interrupt"
INTERRUPT = "interrupt"
INTERRUPT_BUFFERED = "interrupt_buffered"

#: Input conditions, each a dataset config, in display order.
CONDITIONS: tuple[str, ...] = (NO_INTERRUPT, INTERRUPT, INTERRUPT_BUFFERED)

#: A steered run answers the `interrupt` rows; the leaderboard shows it as this pseudo-condition.
INTERRUPT_STEER = "interrupt+steer"

DESCRIPTIONS = {
    NO_INTERRUPT: "the model is listening when the claim starts",
    INTERRUPT: "the model is talking at length and the claim cuts in with zero buffer (subject word first)",
    INTERRUPT_BUFFERED: "the same interruption preceded by a spoken filler ('Hey, sorry, quick question:')",
}


def check_names(wanted: Iterable[str], available: Sequence[str], what: str = "condition") -> None:
    """Refuse the first name in `wanted` that is not in `available` with an UnknownNameError holding a
    did-you-mean and the names there are: what every command says of a mistyped --condition(s)."""
    from zbb.registry import unknown_name

    for name in wanted:
        if name not in available:
            raise unknown_name(what, name, available, matches=1, cutoff=0.6)
