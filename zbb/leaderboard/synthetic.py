"""Synthetic run results with chosen rates, for tests, the benchmark and trying the app without a scorer.

Outcomes are laid out deterministically from a seed: exactly round(rate * n) rows are correct (or hit), so the
figures a test expects follow from its inputs. These are never stored as real results.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from zbb import __version__
from zbb.records import ConditionAggregate, ItemScore, Provenance, RunMeta, RunResult, Steering
from zbb.stats import wilson


def synthetic_run(
    model: str,
    rates: Mapping[str, tuple[float, float]],
    *,
    n: int = 100,
    kind: str = "self-reported",
    steering: Steering | None = None,
    items: bool = True,
    seed: int = 0,
    scored_at: str = "2026-06-20T12:00:00Z",
    family: str | None = None,
    model_url: str | None = None,
    paper_url: str | None = None,
    fingerprint: str = "f00dfeedcafe0123",
    decoding: Mapping | None = None,
) -> RunResult:
    """A run whose `rates[condition] = (correctness, iwor)` hold exactly on n rows `item-000`..."""
    aggregates, scored = {}, []
    for condition, (correct_rate, hit_rate) in rates.items():
        rng = random.Random(f"{seed}-{condition}")
        k_correct, k_hit = round(correct_rate * n), round(hit_rate * n)
        order = list(range(n))
        rng.shuffle(order)
        correct = set(order[:k_correct])
        rng.shuffle(order)
        hit = set(order[:k_hit])
        aggregates[condition] = ConditionAggregate(n=n, correctness=wilson(k_correct, n), iwor=wilson(k_hit, n))
        if items:
            scored += [
                ItemScore(
                    id=f"item-{i:03d}",
                    condition=condition,
                    response=f"{'yes' if i % 2 else 'no'}, item {i}",
                    normalised=f"item {i}",
                    stance="affirm" if i % 2 else "deny",
                    correct=i in correct,
                    subject_hit=i in hit,
                    judge_reason="synthetic",
                    label=bool(i % 2),
                    category="synthetic",
                )
                for i in range(n)
            ]
    return RunResult(
        meta=RunMeta(
            model=model,
            steering=steering,
            model_family=family,
            model_url=model_url,
            paper_url=paper_url,
            decoding=dict(decoding or {}),
        ),
        provenance=Provenance(
            kind=kind,  # type: ignore[arg-type]  # one of ProvenanceKind, passed through
            zbb_version=__version__,
            dataset_fingerprint=fingerprint,
            judge="rule-v1",
            scored_at=scored_at,
        ),
        aggregates=aggregates,
        items=tuple(scored),
    )
