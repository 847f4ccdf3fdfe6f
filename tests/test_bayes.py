"""The project's Bayesian signed-rank test gives baycomp's probabilities (same Dirichlet draws, same seed)."""

from __future__ import annotations

import numpy as np
import pytest

from adbench_repro.aggregate.stats import bayes_signed_rank


@pytest.mark.parametrize("n, shift, rope", [(12, 0.0, 0.01), (43, 0.02, 0.01), (43, -0.005, 0.02), (5, 0.05, 0.01)])
def test_same_probabilities_as_baycomp(n, shift, rope):
    import baycomp

    rng = np.random.default_rng(n)
    a = rng.uniform(0.6, 0.9, n)
    b = a - shift + rng.normal(0, 0.02, n)
    ours = bayes_signed_rank(a, b, rope, seed=3, nsamples=4000)
    ref = baycomp.two_on_multiple(a, b, rope=rope, random_state=3, nsamples=4000)
    assert (ours["p_better"], ours["p_equivalent"], ours["p_worse"]) == pytest.approx(ref, abs=1e-12)


def test_a_clear_difference_and_a_clear_tie():
    a = np.linspace(0.6, 0.9, 30)
    assert bayes_signed_rank(a + 0.05, a, 0.01)["p_better"] > 0.99
    assert bayes_signed_rank(a + 0.001, a, 0.01)["p_equivalent"] > 0.99
