"""``update``: bars that extend what a model saw, fine-tuning, versions on disk, idempotence;
and ``forecast_latest``, the one-pass forecast of a whole universe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic import random_walk_bars

import forecast as fc
from forecast.seen import SeenBars, count_steps
from forecast.updating import latest_version, update, update_model_dir, version_path

TINY = dict(lookback=6, horizon=2, hidden_size=4, epochs=1, patience=None, progress=False)


def _panel(lengths: dict[str, int], seed: int = 0) -> pd.DataFrame:
    frames = {
        ticker: random_walk_bars(n, seed=seed + i, price=50.0 + 40 * i)
        for i, (ticker, n) in enumerate(lengths.items())
    }
    # Tickers end on the same day, start on different ones (like listings of a universe).
    last = max(f.index[-1] for f in frames.values())
    for frame in frames.values():
        frame.index = pd.bdate_range(end=last, periods=len(frame), name="Date")
    return pd.concat(frames, names=["ticker", "Date"])


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_walk_bars(120, seed=3)


@pytest.fixture(scope="module")
def fitted(bars: pd.DataFrame) -> fc.Forecaster:
    return fc.Forecaster(**TINY).fit(bars.iloc[:-6])


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time (ns)."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- what a model saw ----------------------------------------------------------------------


def test_fit_records_the_last_bars_and_the_spacing(bars, fitted):
    seen = fitted.seen_
    assert seen.step == "B"
    assert seen.max_gap_steps == 1  # synthetic business days have no holidays
    (tail,) = seen.tails
    assert tail.ticker is None
    assert len(tail.dates) == fitted._seen_rows() == 6 + 2 + 1
    assert tail.last == bars.index[-7]
    np.testing.assert_array_equal(tail.values, bars[seen.columns].to_numpy()[-15:-6])


def test_seen_bars_survive_save_and_load(tmp_path, fitted):
    fitted.save(tmp_path / "m")
    loaded = fc.load_model(tmp_path / "m")
    assert loaded.seen_.to_dict() == fitted.seen_.to_dict()


def test_a_holiday_sets_the_usual_spacing_and_a_longer_gap_is_refused():
    bars = random_walk_bars(80, seed=1)
    bars = bars.drop(bars.index[30])  # one weekday holiday: 2 business days between bars
    model = fc.Forecaster(**TINY).fit(bars.iloc[:-10])
    assert model.seen_.max_gap_steps == 2
    update(model, bars.iloc[-10:].drop(bars.index[-10]))  # a 2-day gap is usual
    with pytest.raises(fc.DataError) as caught:
        update(model, bars.iloc[-7:])  # three bars missing
    last = bars.index[-11].date()
    assert str(caught.value) == (
        f"the new bar on {bars.index[-7].date()} comes 4 business days after the last bar the "
        f"model saw ({last}), more than the data's usual spacing of at most 2; add the missing "
        "bars, or pass force=True (--force) to accept the gap."
    )
    assert update(model, bars.iloc[-7:], force=True).new_bars == 7


def test_a_gap_inside_the_new_bars_is_refused(bars, fitted):
    new = bars.iloc[-6:].drop(bars.index[-3:-1])
    with pytest.raises(fc.DataError, match="after the bar before it"):
        update(fitted, new)


def test_bars_without_a_fitted_column_are_refused(bars, fitted):
    with pytest.raises(fc.DataError, match=r"missing \['Open'\]"):
        update(fitted, bars.iloc[-6:].drop(columns="Open"))


def test_a_panel_for_a_single_series_model_and_an_unknown_ticker_are_refused(bars, fitted):
    panel = pd.concat({"AAA": bars.iloc[-6:]}, names=["ticker", "Date"])
    with pytest.raises(fc.DataError, match="fitted on one series but the new bars are a panel"):
        update(fitted, panel)
    panel_model = fc.Forecaster(**TINY).fit(
        _panel({"AAA": 60, "BBB": 50}).groupby(level=0).head(50)
    )
    with pytest.raises(fc.DataError, match=r"ticker\(s\) \['ZZZ'\] that the model never saw"):
        update(panel_model, pd.concat({"ZZZ": bars.iloc[-6:]}, names=["ticker", "Date"]))


@given(st.integers(1, 30), st.sampled_from(["B", "D", "h", "W-FRI", "MS"]))
@settings(max_examples=40, deadline=None)
def test_count_steps_counts_the_steps_of_a_regular_index(steps, freq):
    index = pd.date_range("2021-03-01", periods=steps + 1, freq=freq)
    step = index.freq if freq != "h" else pd.Timedelta(hours=1)
    assert count_steps(index[0], index[-1], step) == steps


# -- update in memory ------------------------------------------------------------------------


def test_update_without_training_forecasts_as_predict_on_the_full_history(bars, fitted):
    result = update(fitted, bars.iloc[-6:])
    assert result.new_bars == 6 and result.windows == 0
    expected = fitted.predict(bars)
    np.testing.assert_allclose(result.forecasts["Close"], expected["Close"], rtol=1e-6)
    assert list(result.forecasts["target_date"]) == list(expected.index)
    assert (result.forecasts["origin"] == bars.index[-1]).all()
    # The given model is untouched; the new one has moved forward.
    assert fitted.seen_.tails[0].last == bars.index[-7]
    assert result.model.seen_.tails[0].last == bars.index[-1]
    assert result.model.seen_.updates[-1]["bars"] == 6


def test_todays_bars_alone_and_the_full_file_give_the_same_update(bars, fitted):
    alone = update(fitted, bars.iloc[-6:], epochs=2, scaler="frozen")
    full = update(fitted, bars, epochs=2, scaler="frozen")
    assert alone.windows == full.windows == 6
    for name, tensor in alone.model.module_.state_dict().items():
        assert torch.equal(tensor, full.model.module_.state_dict()[name]), name
    pd.testing.assert_frame_equal(alone.forecasts, full.forecasts)


def test_bar_by_bar_updates_equal_one_update_with_all_bars(bars, fitted):
    model = fitted
    for row in range(-6, 0):
        model = update(model, bars.iloc[[row]]).model
    at_once = update(fitted, bars.iloc[-6:]).model
    assert model.seen_.tails[0].dates.equals(at_once.seen_.tails[0].dates)
    np.testing.assert_array_equal(model.seen_.tails[0].values, at_once.seen_.tails[0].values)


def test_bars_already_seen_change_nothing(bars, fitted):
    result = update(fitted, bars.iloc[:-6])
    assert not result.changed and result.model is fitted


def test_fine_tuning_trains_on_new_windows_and_frozen_keeps_the_scaler(bars, fitted):
    result = update(fitted, bars.iloc[-6:], epochs=3, scaler="frozen")
    before, after = fitted.module_.state_dict(), result.model.module_.state_dict()
    assert any(not torch.equal(before[name], after[name]) for name in before)
    np.testing.assert_array_equal(
        result.model.transform_.scaler_.mean_, fitted.transform_.scaler_.mean_
    )
    assert result.model.seen_.updates[-1] == {
        "first_new": str(bars.index[-6].date()),
        "last": str(bars.index[-1].date()),
        "bars": 6,
        "series": 1,
        "epochs": 3,
        "scaler": "frozen",
        "windows": 6,
        "forced": False,
    }


def test_refit_fits_the_scaler_on_every_bar_at_hand(bars, fitted):
    result = update(fitted, bars, epochs=1, scaler="refit")
    expected = fc.SeriesTransform().fit(bars[fitted.fit_columns_].to_numpy())
    np.testing.assert_allclose(
        result.model.transform_.scaler_.mean_, expected.scaler_.mean_, rtol=1e-12
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(epochs=2), "fine-tuning (epochs=2) needs an explicit scaler policy, got None"),
        (dict(epochs=2, scaler="thaw"), "needs an explicit scaler policy, got 'thaw'"),
        (dict(scaler="refit"), "scaler='refit' without fine-tuning"),
        (dict(epochs=-1), "epochs of update must be an integer >= 0, got -1"),
    ],
)
def test_bad_update_options_are_refused(bars, fitted, options, message):
    with pytest.raises(fc.ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        update(fitted, bars.iloc[-6:], **options)


def test_an_unfitted_model_or_one_without_seen_bars_is_refused(bars, fitted):
    with pytest.raises(fc.ConfigError, match="needs a fitted Forecaster"):
        update(fc.Forecaster(), bars)
    old = fc.Forecaster(**TINY).fit(bars.iloc[:-6])
    del old.seen_
    with pytest.raises(fc.ModelFileError, match="does not record the bars it saw"):
        update(old, bars)


def test_the_method_returns_the_updated_copy(bars, fitted):
    moved = fitted.update(bars.iloc[-6:])
    assert moved is not fitted and moved.seen_.tails[0].last == bars.index[-1]


# -- versions on disk ------------------------------------------------------------------------


def test_update_writes_a_new_version_beside_the_old_and_is_idempotent(tmp_path, bars, fitted):
    fitted.save(tmp_path / "aapl")
    csv = tmp_path / "next.csv"
    first = update_model_dir(tmp_path / "aapl", bars.iloc[-6:], forecasts_csv=csv)
    version = version_path(tmp_path / "aapl", bars.index[-1])
    assert first.version == version == tmp_path / f"aapl@{bars.index[-1].date()}"
    assert first.source == tmp_path / "aapl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aapl", version.name, "next.csv"]
    old = fc.load_model(tmp_path / "aapl")
    assert old.seen_.tails[0].last == bars.index[-7]  # the old version stays as it was
    new = fc.load_model(version)
    assert new.seen_.tails[0].last == bars.index[-1]
    written = pd.read_csv(csv, parse_dates=["origin", "target_date"])
    np.testing.assert_allclose(written["Close"], new.predict(bars)["Close"], rtol=1e-6)

    snapshot = _tree(tmp_path)
    again = update_model_dir(tmp_path / "aapl", bars, forecasts_csv=csv)
    assert not again.changed and again.version is None and again.source == version
    assert _tree(tmp_path) == snapshot  # same files, same bytes, not even rewritten


def test_the_newest_version_is_the_one_updated(tmp_path, bars, fitted):
    fitted.save(tmp_path / "m")
    update_model_dir(tmp_path / "m", bars.iloc[-6:-3])
    middle = version_path(tmp_path / "m", bars.index[-4])
    assert latest_version(tmp_path / "m") == middle
    result = update_model_dir(middle, bars.iloc[-3:], epochs=1, scaler="frozen")
    assert result.source == middle
    assert latest_version(tmp_path / "m") == version_path(tmp_path / "m", bars.index[-1])
    assert [u["bars"] for u in fc.load_model(result.version).seen_.updates] == [3, 3]


def test_a_refused_update_writes_nothing(tmp_path, bars, fitted):
    fitted.save(tmp_path / "m")
    snapshot = _tree(tmp_path)
    with pytest.raises(fc.DataError):
        update_model_dir(tmp_path / "m", bars.iloc[-2:], forecasts_csv=tmp_path / "f.csv")
    assert _tree(tmp_path) == snapshot


def test_a_missing_model_directory_is_named(tmp_path, bars):
    with pytest.raises(fc.ModelFileError, match="no model directory at"):
        update_model_dir(tmp_path / "nothing", bars)


def test_a_model_saved_without_seen_bars_still_loads(tmp_path, bars, fitted):
    old = fc.Forecaster(**TINY).fit(bars)
    del old.seen_
    old.save(tmp_path / "old")
    assert not hasattr(fc.load_model(tmp_path / "old"), "seen_")


def test_a_malformed_seen_entry_is_refused():
    with pytest.raises(fc.ModelFileError, match=r"the 'seen' entry of config\.json is malformed"):
        SeenBars.from_dict(
            {
                "columns": ["Close"],
                "step": "B",
                "max_gap_steps": 1,
                "tails": [{"ticker": None, "dates": ["2024-01-01"], "values": [[1.0, 2.0]]}],
            }
        )


# -- the batched fast path --------------------------------------------------------------------


def test_forecast_latest_equals_predict_per_ticker_on_a_panel():
    panel = _panel({"AAA": 70, "BBB": 55, "CCC": 90}, seed=5)
    model = fc.Forecaster(**{**TINY, "topology": "n_to_1", "horizon": 3}).fit(panel)
    fast = fc.forecast_latest(model, panel)
    assert list(fast.columns) == ["ticker", "origin", "target_date", "step", "Close"]
    for ticker in ("AAA", "BBB", "CCC"):
        alone = model.predict(panel.xs(ticker, level=0))
        rows = fast[fast["ticker"] == ticker]
        np.testing.assert_allclose(rows["Close"], alone["Close"], rtol=1e-6)
        assert list(rows["target_date"]) == list(alone.index)
    # With no data, the bars the model saw: the same forecasts for a fit on the whole panel.
    pd.testing.assert_frame_equal(fc.forecast_latest(model), fast)


def test_forecast_latest_refuses_short_series_and_nan():
    panel = _panel({"AAA": 70, "BBB": 60})
    model = fc.Forecaster(**TINY).fit(panel)
    short = pd.concat({"AAA": panel.xs("AAA", level=0).iloc[-3:]}, names=["ticker", "Date"])
    with pytest.raises(fc.DataError, match=r"series \['AAA'\] have fewer than 7 bars"):
        fc.forecast_latest(model, short)
    broken = panel.copy()
    broken.iloc[-1, broken.columns.get_loc("Close")] = np.nan
    with pytest.raises(fc.DataError, match=r"of series \['BBB'\] hold NaN or inf"):
        fc.forecast_latest(model, broken)


def test_forecast_latest_leaves_no_threads_or_generator_changed(bars, fitted):
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    fc.forecast_latest(fitted, bars)
    assert torch.equal(torch.get_rng_state(), state) and torch.get_num_threads() == threads
