"""Time the project's Bayesian signed-rank test against baycomp's on the same data and seed, and check that
both give the same probabilities: ``python scripts/bench_stats.py`` (prints a ratio; writes nothing)."""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    import baycomp

    from adbench_repro.aggregate.stats import BAYES_SAMPLES, ROPE, bayes_signed_rank

    rng = np.random.default_rng(0)
    cases = [(rng.uniform(0.6, 0.9, n), rng.normal(0.01 * k, 0.03, n)) for n in (12, 43, 61) for k in (0, 1, 2)]
    cases = [(a, a + d) for a, d in cases]
    t0 = time.perf_counter()
    ours = [bayes_signed_rank(a, b, ROPE, 0) for a, b in cases]
    t1 = time.perf_counter()
    ref = [baycomp.two_on_multiple(a, b, rope=ROPE, random_state=0, nsamples=BAYES_SAMPLES) for a, b in cases]
    t2 = time.perf_counter()
    worst = max(abs(o[k] - r[i]) for o, r in zip(ours, ref)
                for i, k in enumerate(("p_better", "p_equivalent", "p_worse")))
    print(f"{len(cases)} tests x {BAYES_SAMPLES} posterior samples: ours {t1 - t0:.2f} s, baycomp {t2 - t1:.2f} s, "
          f"ratio {(t2 - t1) / (t1 - t0):.1f}x; largest probability difference {worst:.2g}")


if __name__ == "__main__":
    main()
