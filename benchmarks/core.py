"""The core alone: KPI and quarterly bonuses for N reps x 4 quarters, in process, no files.

    python benchmarks/core.py --reps 100000 [--runs 3] [--seed 1] [--json FILE]

Builds the synthetic plan of :mod:`benchmarks.synth` and its rep targets (not timed), then
times :func:`xl_addin.kpi.score_kpi` and :func:`xl_addin.bonus.quarterly_bonus` on it, and
for context the whole :func:`xl_addin.engine.compute` (validation, target split, checks,
KPI, bonus, awards, watchlist). Medians of ``--runs`` runs in one process.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)

    from benchmarks.synth import synth_inputs
    from xl_addin.core.bonus import quarterly_bonus
    from xl_addin.core.engine import compute
    from xl_addin.core.kpi import score_kpi
    from xl_addin.core.splits import cube_frame, rep_target_frame

    t = time.perf_counter()
    inputs = synth_inputs(a.reps, a.seed)
    rep_targets, _ = rep_target_frame(inputs, cube_frame(inputs))
    setup = time.perf_counter() - t
    kpi_t, bonus_t, compute_t = [], [], []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        kpi = score_kpi(inputs.kpi_scheme, inputs.actuals, rep_targets)
        t1 = time.perf_counter()
        bonus = quarterly_bonus(inputs.settings, inputs.team, inputs.actuals, rep_targets, kpi)
        t2 = time.perf_counter()
        kpi_t.append(t1 - t0)
        bonus_t.append(t2 - t1)
    for _ in range(a.runs):
        t0 = time.perf_counter()
        compute(inputs)
        compute_t.append(time.perf_counter() - t0)
    figures = {
        "reps": a.reps,
        "rows": len(kpi),
        "kpi_s": round(statistics.median(kpi_t), 3),
        "bonus_s": round(statistics.median(bonus_t), 3),
        "kpi_bonus_s": round(statistics.median(k + b for k, b in zip(kpi_t, bonus_t)), 3),
        "compute_s": round(statistics.median(compute_t), 3),
    }
    assert len(bonus.table) == len(kpi)
    print(f"setup (synthetic plan, rep targets): {setup:.1f} s", file=sys.stderr)
    text = json.dumps(figures)
    if a.json:
        a.json.write_text(text + "\n")
    print(text)
    return figures


if __name__ == "__main__":
    main()
