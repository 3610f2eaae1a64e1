"""False-discovery control of per-ticker "beats naive" claims (forecast/universe/fdr.py, pooled.py).

The step-up procedure is checked against its textbook definition on arbitrary p-values, and the
whole claim path (per-origin loss differentials -> the calibrated Diebold–Mariano test that
``summarize`` runs, ``forecast.significance.dm_test`` -> one-sided p -> Benjamini–Hochberg) is
run on simulated universes where no ticker beats its baseline: the share of universes with any
corrected claim (the FDR under the complete null) must stay at or under the nominal 5%, within
the binomial error of the simulation, while the uncorrected claims show the problem the
correction solves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _hypothesis_profiles import budget
from hypothesis import given
from hypothesis import strategies as st

from forecast.errors import ConfigError
from forecast.significance import dm_test, overlap_lags
from forecast.universe.fdr import adjust, reject
from forecast.universe.pooled import one_sided

ALPHA = 0.05


def step_up_by_definition(p: np.ndarray, alpha: float, scale: float = 1.0) -> np.ndarray:
    """Reject p_(1..k), k = the largest i with p_(i) <= i alpha / (m scale) (NaN: untested)."""
    tested = np.flatnonzero(~np.isnan(p))
    out = np.zeros(p.shape, dtype=bool)
    m = tested.size
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    passing = [i for i in range(1, m + 1) if p[order[i - 1]] <= i * alpha / (m * scale)]
    if passing:
        out[order[: max(passing)]] = True
    return out


p_values = st.lists(
    st.one_of(st.floats(0.0, 1.0), st.just(math.nan), st.sampled_from([0.01, 0.02, 0.04])),
    min_size=0,
    max_size=60,
).map(lambda values: np.array(values, dtype=np.float64))


@budget(ci=60, fuzz=3000)
@given(p=p_values, alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_bh_and_by_make_exactly_the_textbook_step_up_claims(p: np.ndarray, alpha: float) -> None:
    m = int((~np.isnan(p)).sum())
    harmonic = sum(1.0 / i for i in range(1, m + 1)) if m else 1.0
    bh, by = reject(p, alpha, "bh"), reject(p, alpha, "by")
    np.testing.assert_array_equal(bh, step_up_by_definition(p, alpha))
    np.testing.assert_array_equal(by, step_up_by_definition(p, alpha, harmonic))
    assert not (by & ~bh).any()  # BY claims a subset of BH's
    q = adjust(p, "bh")
    tested = ~np.isnan(p)
    assert np.all(np.isnan(q[~tested]))
    assert np.all(q[tested] >= p[tested] - 1e-15) and np.all(q[tested] <= 1.0)
    order = np.argsort(p[tested], kind="stable")
    assert np.all(np.diff(q[tested][order]) >= -1e-15)  # monotone in p


def test_bad_inputs_are_refused_in_one_sentence() -> None:
    with pytest.raises(ConfigError, match="fdr='holm' is not known; choose one of bh, by"):
        adjust(np.array([0.1]), "holm")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="between 0 and 1"):
        reject(np.array([0.1]), alpha=1.5)
    with pytest.raises(ConfigError, match="p-values must lie between 0 and 1"):
        adjust(np.array([1.2]))


def null_universe_p_values(
    rng: np.random.Generator, n_tickers: int, n_origins: int, horizon: int, rho: float
) -> np.ndarray:
    """One-sided DM p-values of tickers where model and baseline have equal expected loss.

    Prices follow random walks with a common market factor; both forecasts are the origin
    price plus noise of the same size, the noise of each sharing a common part across tickers
    (weight ``rho``), so the tests are positively dependent, as stocks' are.
    """
    steps = n_origins * horizon
    market = rng.normal(size=steps)
    shocks = rho * market + math.sqrt(1 - rho**2) * rng.normal(size=(n_tickers, steps))
    paths = 100 + np.cumsum(shocks, axis=1)  # [tickers, steps]
    actual = paths.reshape(n_tickers, n_origins, horizon)
    origin = np.concatenate([np.full((n_tickers, 1), 100.0), paths[:, horizon - 1 :: horizon]],
                            axis=1)[:, :n_origins, None]

    def noise() -> np.ndarray:
        common = rng.normal(size=(1, n_origins, horizon))
        own = rng.normal(size=(n_tickers, n_origins, horizon))
        return 2.0 * (rho * common + math.sqrt(1 - rho**2) * own)

    model, baseline = origin + noise(), origin + noise()
    d = ((actual - model) ** 2 - (actual - baseline) ** 2).mean(axis=2)  # per origin, as summarize
    out = np.empty(n_tickers)
    for ticker in range(n_tickers):
        # As summarize() tests a ticker: per-origin differentials, the overlap's lags
        # (origins H bars apart: none), two-sided; the table turns it one-sided.
        dm = dm_test(d[ticker], lags=overlap_lags(horizon, step=horizon))
        out[ticker] = one_sided(dm.statistic, dm.p_value)
    return out


def test_bh_holds_its_level_for_positively_dependent_one_sided_tests() -> None:
    """BH's PRDS case: one-sided p-values of equicorrelated normal statistics (rho >= 0)."""
    rng = np.random.default_rng(1)
    universes, n_tickers = 4000, 50
    for rho in (0.0, 0.5, 0.9):
        z = rho * rng.normal(size=(universes, 1)) + math.sqrt(1 - rho**2) * rng.normal(
            size=(universes, n_tickers)
        )
        p = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))  # Phi(z): uniform under H0
        rate = np.mean([reject(row, ALPHA, "bh").any() for row in p])
        assert rate <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / universes), rho




@pytest.mark.parametrize(
    ("n_tickers", "rho", "horizon"),
    [
        (20, 0.0, 1),
        (40, 0.6, 1),
        (20, 0.0, 5),
    ],
)
def test_corrected_claims_stay_at_the_nominal_level_on_random_walk_universes(
    n_tickers: int, rho: float, horizon: int
) -> None:
    rng = np.random.default_rng(14 + n_tickers)
    universes = 400
    any_corrected = any_raw = raw_claims = 0
    for _ in range(universes):
        p = null_universe_p_values(rng, n_tickers, n_origins=50, horizon=horizon, rho=rho)
        any_corrected += bool(reject(p, ALPHA, "bh").any())
        raw = p < ALPHA
        any_raw += bool(raw.any())
        raw_claims += int(raw.sum())
    # Under the complete null the FDR is P(any claim); binomial error of 400 draws, 3 sigma.
    tolerance = 3 * math.sqrt(ALPHA * (1 - ALPHA) / universes)
    assert any_corrected / universes <= ALPHA + tolerance
    # Each uncorrected test holds its own level (so the DM p-values are calibrated) ...
    tests = universes * n_tickers
    assert abs(raw_claims / tests - ALPHA) <= 4 * math.sqrt(ALPHA * (1 - ALPHA) / tests) * (
        1 + 5 * rho  # correlated tests: fewer effective draws, a wider band
    )
    # ... yet most universes would "find" a winner without the correction.
    assert any_raw / universes > 0.3
