"""The benchmark's input conditions (one dataset config each) and the steered run label."""

from __future__ import annotations

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
