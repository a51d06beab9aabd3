"""Reference results: the paper's Table 2 as `RunResult`s (provenance "paper-reported", aggregates only).

Chang, Chang, Liu, Glass, "Overcoming State Inertia in Full-Duplex Spoken Language Models via Activation
Steering", arXiv 2606.11386. n = 100 per condition; k = rate x 100; intervals are Wilson intervals recomputed
here (the paper reports binomial standard errors).
"""

from __future__ import annotations

import os
from pathlib import Path

from zbb.conditions import INTERRUPT, NO_INTERRUPT
from zbb.records import ConditionAggregate, Provenance, RunMeta, RunResult, Steering
from zbb.stats import wilson

PAPER_URL = "https://arxiv.org/abs/2606.11386"
PAPER_N = 100

# model -> (steering layer, alpha, span), {metric: (interrupt, interrupt+steer, no_interrupt)}   (Table 2)
TABLE_2: dict[str, tuple[tuple[int, float, int], dict[str, tuple[float, float, float]]]] = {
    "PersonaPlex": ((23, 5.5, 3), {"correctness": (0.28, 0.45, 0.49), "iwor": (0.40, 0.72, 0.74)}),
    "Moshi": ((23, 5.5, 3), {"correctness": (0.22, 0.34, 0.43), "iwor": (0.29, 0.64, 0.67)}),
    "Raon-SpeechChat": ((26, 1.2, 3), {"correctness": (0.03, 0.17, 0.10), "iwor": (0.16, 0.24, 0.29)}),
}


def _aggregate(correctness: float, iwor: float, n: int = PAPER_N) -> ConditionAggregate:
    return ConditionAggregate(n=n, correctness=wilson(round(correctness * n), n), iwor=wilson(round(iwor * n), n))


def _provenance() -> Provenance:
    from zbb import __version__

    return Provenance(
        kind="paper-reported",
        zbb_version=__version__,
        dataset="ZBB as built in the paper (50 subjects x 2 claims, TTS Dia2-2B)",
        judge="GPT-4.1-mini (paper's LLM judge)",
        asr="nvidia/parakeet-tdt-0.6b-v2 (paper)",
        asr_grade="reference",
        source_url=PAPER_URL,
    )


def paper_results() -> list[RunResult]:
    """For each model of Table 2: an unsteered run (no_interrupt + interrupt) and a steered run (interrupt)."""
    results = []
    for model, ((layer, alpha, span), figures) in TABLE_2.items():
        c, w = figures["correctness"], figures["iwor"]
        notes = "Reported in the paper's Table 2 (n = 100 per condition); no per-item outputs are public."
        unsteered = RunMeta(model=model, paper_url=PAPER_URL, notes=notes)
        steered = RunMeta(
            model=model,
            paper_url=PAPER_URL,
            notes=notes,
            steering=Steering(method="perception-vector", layer=layer, alpha=alpha, span=span),
        )
        results.append(
            RunResult(
                meta=unsteered,
                provenance=_provenance(),
                aggregates={NO_INTERRUPT: _aggregate(c[2], w[2]), INTERRUPT: _aggregate(c[0], w[0])},
            )
        )
        results.append(
            RunResult(meta=steered, provenance=_provenance(), aggregates={INTERRUPT: _aggregate(c[1], w[1])})
        )
    return results


def write_paper_results(out_dir: str | os.PathLike = "submissions") -> list[Path]:
    """Save every paper-reported run as `<run_id>.json` under `out_dir`."""
    from zbb.results import save_result

    return [save_result(r, Path(out_dir) / f"{r.run_id}.json") for r in paper_results()]
