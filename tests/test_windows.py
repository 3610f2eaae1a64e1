"""Tests for forecast.data.windows: views, per-topology targets, panels, padding, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import forecast as fc
from forecast.data.windows import Windows, input_windows, make_windows, target_windows
from forecast.errors import ConfigError, DataError
from forecast.topologies import TOPOLOGIES

FAST = settings(max_examples=60, deadline=None)


def _frame(n_rows: int, columns: tuple[str, ...] = ("Open", "High", "Low", "Close"),
           offset: float = 0.0, start: str = "2020-01-01") -> pd.DataFrame:
    """Row r, column c holds offset + 10*r + c: every cell says where it came from."""
    values = offset + 10.0 * np.arange(n_rows)[:, None] + np.arange(len(columns))[None, :]
    index = pd.date_range(start, periods=n_rows, freq="D", name="Date")
    return pd.DataFrame(values, index=index, columns=list(columns))


def _expected_target(values: np.ndarray, origin: int, lookback: int, horizon: int,
                     topology: str) -> np.ndarray:
    """Reference targets for the window whose origin is `origin`, written the slow way."""
    if topology == "n_to_1":
        return values[origin + 1 : origin + 2]
    if topology == "n_to_n":
        return values[origin - lookback + 2 : origin + 2]
    return values[origin + 1 : origin + 1 + horizon]


# -- input_windows / target_windows ----------------------------------------------------------


@FAST
@given(
    extra_rows=st.integers(0, 40),
    lookback=st.integers(1, 40),
    horizon=st.integers(1, 10),
    n_features=st.integers(1, 5),
    topology=st.sampled_from(TOPOLOGIES),
    seed=st.integers(0, 2**16),
)
def test_windows_match_slices(
    extra_rows: int, lookback: int, horizon: int, n_features: int, topology: str, seed: int
) -> None:
    n_rows = lookback + horizon + extra_rows
    values = np.random.default_rng(seed).normal(size=(n_rows, n_features)).astype(np.float32)
    X = input_windows(values, lookback)
    y = target_windows(values, lookback, horizon, topology)
    n_windows = n_rows - lookback - horizon + 1
    assert X.shape == (n_rows - lookback + 1, lookback, n_features)
    assert y.shape[0] == n_windows
    for j in range(n_windows):
        origin = j + lookback - 1
        np.testing.assert_array_equal(X[j].numpy(), values[j : j + lookback])
        expected = _expected_target(values, origin, lookback, horizon, topology)
        np.testing.assert_array_equal(y[j].numpy(), expected)


def test_input_windows_is_a_view_of_the_array() -> None:
    base = np.arange(40, dtype=np.float32).reshape(10, 4)
    X = input_windows(base, 3)
    assert X.untyped_storage().data_ptr() == base.ctypes.data
    assert X.untyped_storage().nbytes() == base.nbytes
    base[5, 2] = -1.0  # row 5 is in windows 3, 4 and 5
    assert X[3, 2, 2] == X[4, 1, 2] == X[5, 0, 2] == -1.0


def test_target_windows_are_views_of_the_tensor() -> None:
    base = torch.arange(60, dtype=torch.float32).reshape(20, 3)
    for topology in TOPOLOGIES:
        y = target_windows(base, 4, 3, topology)
        assert y.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()


def test_input_windows_refuses_short_values_and_bad_lookback() -> None:
    with pytest.raises(DataError, match="have 3 rows, fewer than lookback=5"):
        input_windows(np.zeros((3, 2)), 5)
    with pytest.raises(ConfigError, match="lookback=0 is not valid"):
        input_windows(np.zeros((3, 2)), 0)
    with pytest.raises(DataError, match=r"reshape\(-1, 1\)"):
        input_windows(np.zeros(3), 2)


# -- make_windows: one series ----------------------------------------------------------------


@FAST
@given(
    extra_rows=st.integers(0, 30),
    lookback=st.integers(1, 30),
    horizon=st.integers(1, 8),
    topology=st.sampled_from(TOPOLOGIES),
)
def test_make_windows_rows_origins_and_targets(
    extra_rows: int, lookback: int, horizon: int, topology: str
) -> None:
    n_rows = lookback + horizon + extra_rows
    frame = _frame(n_rows)
    values = frame.to_numpy(dtype=np.float32)
    windows = make_windows(frame, lookback=lookback, horizon=horizon, topology=topology,
                           target=["Close", "Open"])
    window = 1 if topology == "1_to_n" else lookback  # 1_to_n reads the origin bar alone
    n_windows = n_rows - window + 1 - horizon
    assert len(windows) == n_windows
    assert windows.features == ("Open", "High", "Low", "Close")
    assert windows.targets == ("Close", "Open")
    np.testing.assert_array_equal(windows.origin_rows, np.arange(n_windows) + window - 1)
    assert windows.origins.equals(frame.index[windows.origin_rows])
    targets = values[:, [3, 0]]
    for j, origin in enumerate(windows.origin_rows):
        if topology == "1_to_n":
            np.testing.assert_array_equal(windows.X[j].numpy(), values[origin : origin + 1])
        else:
            np.testing.assert_array_equal(windows.X[j].numpy(), values[j : j + lookback])
        expected = _expected_target(targets, int(origin), lookback, horizon, topology)
        np.testing.assert_array_equal(windows.y[j].numpy(), expected)
    assert windows.lengths is None and windows.tickers is None


def test_single_series_windows_are_views() -> None:
    frame = _frame(200)
    windows = make_windows(frame, lookback=20, horizon=5)
    # The storage behind 176 windows of 20x4 floats is the 200x4 base array itself.
    assert windows.X.untyped_storage().nbytes() == 200 * 4 * 4
    assert windows.y.untyped_storage().nbytes() == 200 * 1 * 4
    assert not windows.X.is_contiguous()


def test_make_windows_on_bundled_aapl() -> None:
    frame = fc.load("AAPL")
    windows = make_windows(frame, lookback=60, horizon=5, topology="seq2seq")
    assert windows.X.shape == (len(frame) - 64, 60, 4)
    assert windows.y.shape == (len(frame) - 64, 5, 1)
    assert windows.topology == "n_to_m"
    assert windows.X.dtype == windows.y.dtype == torch.float32
    ohlc = frame[["Open", "High", "Low", "Close"]].to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(windows.X[0].numpy(), ohlc[:60])
    np.testing.assert_array_equal(windows.y[-1, :, 0].numpy(), ohlc[-5:, 3])
    assert windows.origins[-1] == frame.index[-6]


def test_features_default_to_target_without_ohlc() -> None:
    frame = _frame(30, columns=("Close", "Volume"))
    windows = make_windows(frame, lookback=5, horizon=2)
    assert windows.features == ("Close",)
    assert windows.X.shape == (24, 5, 1)


# -- make_windows: panels --------------------------------------------------------------------


def _panel(lengths: dict[str, int]) -> pd.DataFrame:
    """Ticker k's values live in [1e6*k, 1e6*k + 1e5): any crossing would show."""
    parts = {
        ticker: _frame(n_rows, offset=1e6 * k, start=f"20{10 + k}-01-01")
        for k, (ticker, n_rows) in enumerate(lengths.items())
    }
    return pd.concat(parts, names=["ticker", "Date"])


def _unpadded(values: torch.Tensor, windows: Windows, mine: np.ndarray) -> torch.Tensor:
    """Mask of the real (not zero-padded) steps of `values`, windows selected by `mine`."""
    if windows.lengths is None or values.shape[1] == 1:
        return torch.ones_like(values, dtype=torch.bool)
    steps = torch.arange(values.shape[1])[None, :, None]
    return (steps < windows.lengths[mine][:, None, None]).expand_as(values)


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("pad", [False, True])
def test_panel_windows_never_cross_tickers(topology: str, pad: bool) -> None:
    lengths = {"AAA": 40, "BBB": 25, "CCC": 60}
    panel = _panel(lengths)
    windows = make_windows(panel, lookback=12, horizon=4, topology=topology, pad=pad,
                           min_lookback=3)
    # pad: origins from row min_lookback-1 = 2 to n-H-1; else from row T-1 = 11; 1_to_n
    # windows are the origin bar alone, from row 0.
    if topology == "1_to_n":
        per_ticker = {t: n - 4 for t, n in lengths.items()}
    else:
        per_ticker = {t: (n - 2 - 4) if pad else (n - 12 - 4 + 1) for t, n in lengths.items()}
    assert len(windows) == sum(per_ticker.values())
    assert list(pd.unique(windows.tickers)) == list(lengths)
    for k, ticker in enumerate(lengths):
        mine = windows.tickers == ticker
        assert mine.sum() == per_ticker[ticker]
        low, high = 1e6 * k, 1e6 * k + 1e5
        inputs, targets = windows.X[mine], windows.y[mine]
        assert ((inputs >= low) & (inputs < high))[_unpadded(inputs, windows, mine)].all()
        if topology == "n_to_n":  # its targets are padded like its inputs
            assert ((targets >= low) & (targets < high))[_unpadded(targets, windows, mine)].all()
        else:
            assert ((targets >= low) & (targets < high)).all()
        rows = windows.origin_rows[mine]
        assert (panel.index.get_level_values(0)[rows] == ticker).all()
        assert windows.origins[mine].equals(pd.DatetimeIndex(panel.index.get_level_values(1)[rows]))


def test_panel_of_bundled_tickers() -> None:
    panel = fc.load(["AAPL", "MSFT"])
    windows = make_windows(panel, lookback=30, horizon=5, topology="n_to_1")
    n_aapl = len(panel.loc["AAPL"]) - 34
    assert (windows.tickers[:n_aapl] == "AAPL").all()
    assert (windows.tickers[n_aapl:] == "MSFT").all()
    first_msft = panel.loc["MSFT"][["Open", "High", "Low", "Close"]].to_numpy(np.float32)[:30]
    np.testing.assert_array_equal(windows.X[n_aapl].numpy(), first_msft)


def test_panel_with_interleaved_tickers_is_refused() -> None:
    parts = {"AAA": _frame(10), "BBB": _frame(10, offset=1e6)}
    panel = pd.concat(parts, names=["ticker", "Date"]).sort_index(level=1)
    with pytest.raises(DataError, match="not contiguous"):
        make_windows(panel, lookback=3, horizon=1)


# -- make_windows: padding -------------------------------------------------------------------


@pytest.mark.parametrize("topology", ["n_to_1", "n_to_n", "n_to_m"])
def test_pad_windows_have_true_lengths_and_zero_tails(topology: str) -> None:
    frame = _frame(30)
    values = frame.to_numpy(dtype=np.float32)
    lookback, horizon = 8, 3
    windows = make_windows(frame, lookback=lookback, horizon=horizon, topology=topology,
                           pad=True, min_lookback=2)
    origins = np.arange(1, 30 - horizon)
    np.testing.assert_array_equal(windows.origin_rows, origins)
    expected_lengths = np.minimum(origins + 1, lookback)
    np.testing.assert_array_equal(windows.lengths.numpy(), expected_lengths)
    for j, (origin, length) in enumerate(zip(origins, expected_lengths, strict=True)):
        first = origin - length + 1
        np.testing.assert_array_equal(windows.X[j, :length].numpy(), values[first : origin + 1])
        assert (windows.X[j, length:] == 0).all()
        target = _expected_target(values[:, [3]], int(origin), int(length), horizon, topology)
        np.testing.assert_array_equal(windows.y[j, : len(target)].numpy(), target)
        if topology == "n_to_n":
            assert (windows.y[j, length:] == 0).all()
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        windows.X, windows.lengths, batch_first=True, enforce_sorted=False
    )
    assert packed.data.shape == (int(expected_lengths.sum()), 4)


def test_pad_makes_short_bundled_series_usable() -> None:
    frame = fc.load("APTV")
    assert len(frame) == 44
    windows = make_windows(frame, lookback=60, horizon=5, pad=True)
    assert windows.X.shape == (39, 60, 4)
    np.testing.assert_array_equal(windows.lengths.numpy(), np.arange(1, 40))
    assert windows.origins[-1] == frame.index[-6]


def test_pad_with_only_full_windows_keeps_views() -> None:
    windows = make_windows(_frame(50), lookback=10, horizon=2, pad=True, min_lookback=10)
    assert windows.X.untyped_storage().nbytes() == 50 * 4 * 4
    assert (windows.lengths == 10).all()


def test_one_to_n_pad_lengths_are_one() -> None:
    windows = make_windows(_frame(20), lookback=8, horizon=2, topology="1_to_n", pad=True)
    assert windows.X.shape == (18, 1, 4)
    assert (windows.lengths == 1).all()


# -- make_windows: errors --------------------------------------------------------------------


def test_too_short_series_message() -> None:
    with pytest.raises(DataError) as error:
        make_windows(fc.load("APTV"), lookback=60, horizon=5)
    assert str(error.value) == (
        "the series has 44 rows but lookback=60 + horizon=5 needs at least 65; "
        "use a shorter lookback, or pad=True."
    )


def test_too_short_ticker_is_named() -> None:
    with pytest.raises(DataError, match="ticker 'BBB' has 5 rows"):
        make_windows(_panel({"AAA": 30, "BBB": 5}), lookback=8, horizon=2)
    with pytest.raises(DataError, match="min_lookback=4 \\+ horizon=2 needs at least 6"):
        make_windows(_frame(5), lookback=8, horizon=2, pad=True, min_lookback=4)


def test_nan_message_names_column_and_fix() -> None:
    frame = _frame(20)
    frame.iloc[7, 1] = np.nan
    with pytest.raises(DataError) as error:
        make_windows(frame, lookback=5, horizon=1)
    assert str(error.value) == (
        "column 'High' holds NaN or inf in 1 row(s), first at 2020-01-08 00:00:00; "
        "run forecast.validate(frame) (or load the data with forecast.load) first."
    )


def test_missing_column_and_bad_options() -> None:
    frame = _frame(20)
    with pytest.raises(DataError, match="no column 'Volume'"):
        make_windows(frame, lookback=5, horizon=1, target="Volume")
    with pytest.raises(ConfigError, match="lookback=0 is not valid"):
        make_windows(frame, lookback=0, horizon=1)
    with pytest.raises(ConfigError, match="horizon=-2 is not valid"):
        make_windows(frame, lookback=5, horizon=-2)
    with pytest.raises(ConfigError, match="topology='sideways' is not known"):
        make_windows(frame, lookback=5, horizon=1, topology="sideways")
    with pytest.raises(ConfigError, match="min_lookback=6 is larger than lookback=5"):
        make_windows(frame, lookback=5, horizon=1, pad=True, min_lookback=6)
    with pytest.raises(DataError, match="not dates"):
        make_windows(frame.reset_index(drop=True), lookback=5, horizon=1)


def test_windows_repr_shows_shapes() -> None:
    windows = make_windows(_frame(20), lookback=5, horizon=2)
    assert isinstance(windows, Windows)
    assert repr(windows).startswith("Windows(n_windows=14, X=[14, 5, 4], y=[14, 2, 1]")
