"""Generate the teaching notebooks from reviewable Python.

    python notebooks/_build.py            # (re)write notebooks/*.ipynb
    python notebooks/_build.py --check    # exit 1 if a notebook differs from this file

Each notebook is a list of cells written below as plain strings, so a review reads Python and
Markdown rather than JSON. The output is deterministic (fixed cell ids, no outputs, sorted
keys), so running this twice changes nothing and diffs stay small; CI executes the notebooks
with ``pytest --nbmake notebooks``.

Rules every notebook keeps:
- imports only ``forecast`` (as ``fc``), numpy, pandas, matplotlib, torch and the standard
  library; bundled data only, never the network;
- small settings (lookback 30, hidden 16-32, 2-5 epochs, seeds) so each runs in well under a
  minute on two CPU cores;
- Markdown explains why and reads the numbers the cells print instead of asserting them, so
  the text stays true when a number moves.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# Shared first code cell. One thread: these networks are tiny, and on a busy two-core CI runner
# several torch threads spend more time waiting for each other than computing.
SETUP = """\
%matplotlib inline
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

import forecast as fc
from forecast import plotting

# Tiny networks train faster on one CPU thread than on several competing for a busy machine,
# and one thread keeps the run time (and the last bits of every number) the same run to run.
torch.set_num_threads(1)
pd.set_option("display.precision", 4)
print(f"forecast {fc.__version__}, torch {torch.__version__}")
"""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(text).strip("\n"))


# ---------------------------------------------------------------------------------------------
# 01 quickstart
# ---------------------------------------------------------------------------------------------

QUICKSTART = [
    md("""
    # 01 · Quickstart: from bundled bars to next week's forecast

    In a few cells we load a price series that ships with the package, look at it, fit a
    recurrent network (an LSTM), forecast the next five trading days, and put the forecast
    next to the history. At the end the same work is done again in three command lines.

    Everything runs on the CPU in well under a minute. Settings are deliberately small
    (5 epochs, 32 hidden units): the point is to see the moving parts, not to win.
    """),
    code(SETUP + """\
import os
import subprocess
import sys
import tempfile
from pathlib import Path
"""),
    md("""
    ## 1. The data

    The package bundles ten daily OHLCV series of S&P 500 stocks (2013-2018; see
    `datasets/PROVENANCE.md` for where they come from and what is odd about some of them).
    `fc.describe_datasets()` lists them; `fc.load(name)` returns one as a pandas frame.
    """),
    code("""
    fc.describe_datasets()
    """),
    code("""
    bars = fc.load("AAPL")
    first, last = bars.index[0], bars.index[-1]
    print(f"{bars.attrs['name']}: {len(bars)} bars, {first:%Y-%m-%d} to {last:%Y-%m-%d}")
    print("what validation changed:", bars.attrs["validation"] or "nothing")
    bars.tail()
    """),
    md("""
    Every source (bundled file, your CSV, a yfinance ticker) arrives in this one canonical
    shape: a `DatetimeIndex` named `Date`, sorted and unique, and the columns `Open`, `High`,
    `Low`, `Close` (plus `Volume`), as floats in the data's own currency units. `load` has
    already validated it: no NaN, every bar's High and Low cover its Open and Close. Whatever
    validation had to change is listed in `bars.attrs["validation"]` (printed above).

    A candlestick chart shows all four prices of each bar: the body spans Open to Close
    (green when the day closed higher than it opened), the thin wick spans Low to High.
    """),
    code("""
    plotting.plot_ohlc(bars, last=60, title="AAPL: the last 60 daily bars")
    """),
    md("""
    ## 2. Fit an LSTM

    `fc.Forecaster` is a scikit-learn style estimator: settings go into the constructor,
    `fit(frame)` learns, `predict(frame)` forecasts. The settings below read as: look at the
    last **30** bars (the *lookback* T), forecast the next **5** (the *horizon* H), with an
    LSTM in the `n_to_m` topology (an encoder reads the 30 bars, a decoder writes the 5
    forecasts one after the other).

    What `fit` does, in order:

    1. turns prices into **log returns** (`log(p[t] / p[t-1])`): returns look much more
       alike from year to year than price levels do;
    2. fits a **standard scaler** on those returns, from the rows you pass to `fit` only;
    3. cuts the scaled series into overlapping 30-bar windows, each with the 5 values that
       followed it as its target;
    4. trains the network on the earlier windows and keeps the weights that did best on the
       latest 10% (early stopping).
    """),
    code("""
    model = fc.Forecaster(
        cell="lstm",        # recurrent cell: "rnn", "lstm" or "gru"
        topology="n_to_m",  # encoder over T steps, decoder over H steps
        lookback=30,        # T, bars per input window
        horizon=5,          # H, bars forecast after the last one (a trading week)
        hidden_size=32,
        epochs=5,
        seed=0,             # same seed, same numbers (on CPU)
        progress=False,
    )
    model.fit(bars)

    history = model.history_
    print(f"{history.n_train} training windows, {history.n_val} validation windows, "
          f"{history.seconds:.1f} s; best epoch {history.best_epoch + 1}")
    pd.DataFrame({"train loss": history.train_loss, "validation loss": history.val_loss},
                 index=pd.RangeIndex(1, len(history.train_loss) + 1, name="epoch"))
    """),
    md("""
    The losses are mean squared errors in *scaled* units. The scaler made the training
    returns have variance 1, so a model that always predicts "no change" would score a
    training loss close to 1.0. Daily stock returns are mostly noise; a training loss that
    stays near 1.0 is what an honest fit on them usually looks like, not a bug.
    (The validation loss can sit lower or higher than 1.0 simply because the last 10% of
    the data was a calmer or a wilder period than the average.)

    ## 3. Forecast the next week

    `predict` answers in **prices**, indexed by the dates it forecasts (business days after
    the last bar; the exchange's holidays are not known to it).
    """),
    code("""
    next_week = model.predict(bars)
    next_week
    """),
    code("""
    recent = bars["Close"].iloc[-60:]
    path = pd.concat([recent.iloc[-1:], next_week["Close"]])  # start the line at the last close

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(recent.index, recent.to_numpy(), color="0.2", label="Close (history)")
    ax.plot(path.index, path.to_numpy(), color="C1", marker="o", label="LSTM forecast")
    ax.axvline(recent.index[-1], color="0.6", linestyle=":", label="last bar (the origin)")
    ax.set(title="AAPL: the last 60 closes and the next 5 forecast", xlabel="date",
           ylabel="price (USD)")
    ax.legend()
    fig
    """),
    code("""
    forecast_move = next_week["Close"].iloc[-1] / bars["Close"].iloc[-1] - 1
    typical_move = bars["Close"].pct_change(5).abs().median()
    print(f"forecast change over the 5 bars:               {forecast_move:+.2%}")
    print(f"median absolute 5-bar change in the history:   {typical_move:.2%}")
    """),
    md("""
    Compare the two numbers above. When the forecast moves much less than the price
    typically moves in a week, the network is hedging towards "about where it is now",
    which is what a model should do when the past says little about the next week. A
    single forecast cannot tell you whether the model is any good; only a test on data it
    has not seen can.

    ## 4. Is it better than "no change"?

    `fc.backtest` replays history: it refits the model on the data before each test block
    (never after), forecasts the block, and scores it against simple baselines on exactly
    the same points, the most important being **naive** (tomorrow's price is today's, the
    random walk). Notebook 04 explains every column; here we read only the verdict.
    """),
    code("""
    result = fc.backtest(model, bars, test_size=100, folds=2)
    print(result.verdict())
    result.metrics[["model", "mae", "mase", "dm_pvalue"]]
    """),
    md("""
    The sentence above is the answer for this run. MASE is the model's mean absolute error
    divided by the naive forecast's on the same points (below 1.0 means smaller errors),
    and the Diebold-Mariano p-value says whether the difference is larger than chance would
    produce; the verdict only says "beats" when both agree. On daily stock prices, and with
    five epochs, expect it to say that the model does not beat the random walk: that is the
    normal result, and notebook 04 is about reading it.

    ## 5. The same in three command lines

    The `forecast` command calls the same functions, with the same defaults:

    ```bash
    forecast fit      --data AAPL --lookback 30 --hidden-size 32 --epochs 5 --out runs/aapl-lstm
    forecast predict  --model runs/aapl-lstm
    forecast backtest --data AAPL --lookback 30 --hidden-size 32 --epochs 5 --test-size 100 --folds 2
    ```

    The cell below runs exactly these three lines in a temporary folder (it takes a few
    seconds more, because each command starts a fresh Python).
    """),
    code("""
    # The console script installed beside this Python (e.g. .venv/bin/forecast).
    forecast_cli = Path(sys.executable).with_name("forecast")
    workdir = tempfile.TemporaryDirectory()
    model_dir = Path(workdir.name) / "aapl-lstm"
    forecasts_csv = Path(workdir.name) / "next.csv"
    # One torch thread in the child processes too, as in this notebook (see the first cell).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}


    def forecast(*args: str) -> None:
        print("$ forecast", " ".join(args))
        done = subprocess.run([str(forecast_cli), *args], capture_output=True, text=True, env=env)
        print(done.stdout + done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"forecast exited with {done.returncode}")


    forecast("fit", "--data", "AAPL", "--lookback", "30", "--hidden-size", "32", "--epochs", "5",
             "--out", str(model_dir))
    forecast("predict", "--model", str(model_dir), "--output", str(forecasts_csv))
    forecast("backtest", "--data", "AAPL", "--lookback", "30", "--hidden-size", "32",
             "--epochs", "5", "--test-size", "100", "--folds", "2", "--quiet")
    """),
    code("""
    from_cli = pd.read_csv(forecasts_csv, index_col="Date", parse_dates=True)
    gap = (from_cli["Close"] - next_week["Close"]).abs().max()
    print(f"largest difference between the CLI's and this notebook's forecasts: {gap:.2e}")
    print("saved model directory:", sorted(p.name for p in model_dir.iterdir()))
    workdir.cleanup()
    """),
    md("""
    The command line fitted the same model with the same seed, so its forecasts should match
    the ones above (a difference of 0 or within float rounding). The saved model is a folder
    of `config.json` (settings and fitted scaler, readable text) and `weights.safetensors`
    (tensors only): loading it never runs code from the file, unlike a pickle.

    **Next:** [02 · bars to tensors](02_bars_to_tensors.ipynb) opens up what `fit` did to the
    data; [04 · backtesting honestly](04_backtesting_honestly.ipynb) reads a backtest in full.
    """),
]


# ---------------------------------------------------------------------------------------------
# 02 bars to tensors
# ---------------------------------------------------------------------------------------------

BARS_TO_TENSORS = [
    md("""
    # 02 · From bars to tensors

    A recurrent network eats a 3-D tensor `[N, T, F]`: **N** windows, each **T** time steps
    long, with **F** features per step. This notebook shows how a frame of bars becomes that
    tensor, what the network is asked to predict in each of the four topologies, why it
    learns on returns rather than on prices, and why the scaler may only ever see the
    training rows.

    The shape legend used everywhere in `forecast`: **N** windows, **T** lookback steps,
    **F** input features, **H** horizon, **K** targets. Batch first.
    """),
    code(SETUP),
    md("""
    ## 1. Windows: `[L, F]` rows become `[N, T, F]`

    `fc.make_windows` slides a window of T rows along the series. Window `j` covers rows
    `j .. j+T-1`; its last row is its **origin**, the moment a forecast would be made. Only
    windows with H rows after their origin get a target, so a series of L rows gives
    `N = L - T - H + 1` windows.
    """),
    code("""
    bars = fc.load("AAPL")
    windows = fc.make_windows(bars, lookback=30, horizon=5)
    L, T, H = len(bars), windows.lookback, windows.horizon
    print(windows)
    print(f"L - T - H + 1 = {L} - {T} - {H} + 1 = {L - T - H + 1}")
    print("features (F):", windows.features, "| targets (K):", windows.targets)
    """),
    md("""
    With no `features=` given, the four OHLC prices are the inputs (F = 4) and `Close` is
    the target (K = 1). Values are raw prices here: `make_windows` cuts, it never scales
    (the `Forecaster` scales before it cuts). Let us check window 0 against the frame:
    """),
    code("""
    j = 0
    origin = windows.origin_rows[j]
    print(f"window 0: origin {windows.origins[j]:%Y-%m-%d} = row {origin} "
          f"= the date of row T-1, {bars.index[T - 1]:%Y-%m-%d}")
    same_inputs = np.allclose(windows.X[j].numpy(), bars[["Open", "High", "Low", "Close"]].iloc[:T])
    same_targets = np.allclose(windows.y[j, :, 0].numpy(), bars["Close"].iloc[T:T + H])
    print("X[0] is rows 0..29 of OHLC:", same_inputs)
    print("y[0] is Close of rows 30..34:", same_targets)
    """),
    md("""
    The windows overlap: every row from row 29 on sits in 30 of them. Copying would store every price 30 times;
    instead `X` is a **strided view** over one array (`Tensor.unfold`), so cutting a million
    windows costs no copy and no Python loop.
    """),
    code("""
    as_copies = windows.X.numel() * windows.X.element_size()
    shared = windows.X.untyped_storage().nbytes()
    print(f"X would take {as_copies / 1e6:.1f} MB as copies; "
          f"as a view it shares {shared / 1e3:.0f} kB (contiguous: {windows.X.is_contiguous()})")
    """),
    md("""
    ## 2. Four topologies, four kinds of target

    "Topology" is how input steps map to output steps. Every topology *forecasts* `[N, H, K]`
    in the end; they differ in what they are *trained* to output:

    | topology | reads | trained to output | how it reaches H steps |
    |---|---|---|---|
    | `n_to_1` (many-to-one) | T steps | the next step `[N, 1, K]` | feeds its own forecast back H-1 times |
    | `n_to_n` (many-to-many) | T steps | the step after *each* input step `[N, T, K]` | same rollout as n_to_1 |
    | `n_to_m` (seq2seq) | T steps | the next H steps `[N, H, K]` | a decoder writes them one by one |
    | `1_to_n` (one-to-many) | 1 step, the origin bar (the lookback is ignored) | the next H steps `[N, H, K]` | a decoder from one bar |
    """),
    code("""
    shapes = []
    for topology in ["n_to_1", "n_to_n", "n_to_m", "1_to_n"]:
        cut = fc.make_windows(bars, lookback=30, horizon=5, topology=topology)
        shapes.append({"topology": topology, "X (inputs)": list(cut.X.shape),
                       "y (training target)": list(cut.y.shape)})
    pd.DataFrame(shapes).set_index("topology")
    """),
    md("""
    The same thing drawn on a short piece of the series: 14 closing prices, lookback T = 6,
    horizon H = 3, and window `j = 2`. Filled blue dots are what the window feeds the
    network; orange rings are what it is trained to output. The rows are worked out from the
    window's origin and then **checked against `make_windows`' own tensors**, so the picture
    cannot drift from the code.
    """),
    code("""
    tiny = bars.iloc[:14]
    close = tiny["Close"].to_numpy()
    T_small, H_small, j = 6, 3, 2
    rows = np.arange(len(tiny))

    fig = Figure(figsize=(10, 8.5), layout="constrained")
    axes = fig.subplots(4, 1, sharex=True)
    for ax, topology in zip(axes, ["n_to_1", "n_to_n", "n_to_m", "1_to_n"]):
        cut = fc.make_windows(tiny, lookback=T_small, horizon=H_small, topology=topology,
                              features=["Close"], target="Close")
        origin = int(cut.origin_rows[j])
        inputs = np.arange(origin - cut.X.shape[1] + 1, origin + 1)
        first = origin - T_small + 2 if topology == "n_to_n" else origin + 1
        targets = np.arange(first, first + cut.y.shape[1])
        assert np.allclose(cut.X[j, :, 0].numpy(), close[inputs])
        assert np.allclose(cut.y[j, :, 0].numpy(), close[targets])

        ax.plot(rows, close, color="0.8", marker="o", markersize=4, zorder=1)
        ax.scatter(inputs, close[inputs], s=60, color="C0", zorder=3,
                   label=f"inputs X[{j}]: {list(cut.X.shape[1:])} (steps, features)")
        ax.scatter(targets, close[targets], s=200, facecolors="none", edgecolors="C1",
                   linewidths=2, zorder=4,
                   label=f"training target y[{j}]: {list(cut.y.shape[1:])} (steps, targets)")
        ax.axvline(origin, color="0.5", linestyle=":", zorder=0)
        ax.text(origin, ax.get_ylim()[1], " origin", va="top", color="0.4", fontsize="small")
        ax.set_title(f"{topology}: N = {len(cut)} windows from 14 rows", loc="left")
        ax.set_ylabel("Close (USD)")
        ax.legend(loc="upper right", fontsize="small")
    axes[-1].set_xlabel("row of the series")
    axes[-1].set_xticks(rows)
    fig
    """),
    md("""
    Read the four panels top to bottom:

    - **n_to_1** reads 6 bars and is trained on one number, the next close. To forecast 3
      steps it feeds its own forecast back in.
    - **n_to_n** reads the same 6 bars but is trained at every step: output `t` must predict
      input `t + 1`. The rings are the inputs shifted by one row. Its outputs at early steps
      have seen little history; that is also why it may never be bidirectional (a backward
      pass would let step `t` read step `t + 1`, the answer).
    - **n_to_m** reads 6 bars and is trained on the whole 3-step future at once.
    - **1_to_n** reads only the origin bar and must write 3 steps from it alone. It ignores
      the lookback, so every bar with 3 bars after it is an origin: more windows from the
      same 14 rows (the `Forecaster` cuts its training windows with this same code).

    ## 3. Returns, not levels

    A price series wanders: AAPL's price at the end of these five years is far outside the
    range of its first years. A network trained on scaled *levels* meets inputs in the test
    period that it never saw in training. *Returns* (the relative change from one bar to the
    next) look much more alike from one year to the next. `fc.SeriesTransform` maps prices
    to a scaled representation and back:
    """),
    code("""
    prices = bars[["Close"]].to_numpy()      # [L, 1] prices
    split = 1000                             # rows 0..999 are "training", the rest "test"
    print(f"training rows end {bars.index[split - 1]:%Y-%m-%d}; "
          f"test rows run to {bars.index[-1]:%Y-%m-%d}")

    table, scaled_series = [], {}
    for representation in ["levels", "log_return"]:
        transform = fc.SeriesTransform(representation=representation, scaler="standard")
        transform.fit(prices[:split])                  # training rows only
        scaled = transform.transform(prices)[:, 0]     # [L]; row 0 is NaN for returns
        scaled_series[representation] = scaled
        train, test = scaled[:split], scaled[split:]
        low, high = np.nanmin(train), np.nanmax(train)
        table.append({
            "representation": representation,
            "train mean": np.nanmean(train), "train std": np.nanstd(train),
            "test mean": test.mean(), "test std": test.std(),
            "test values outside the training range": np.mean((test < low) | (test > high)),
        })
    pd.DataFrame(table).set_index("representation").round(3)
    """),
    code("""
    fig = Figure(figsize=(10, 5), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, (representation, scaled) in zip(axes, scaled_series.items()):
        ax.plot(bars.index, scaled, linewidth=0.8, color="C0")
        ax.axvspan(bars.index[split], bars.index[-1], color="C1", alpha=0.15, label="test rows")
        ax.set(title=f"{representation}, standard-scaled with training statistics",
               ylabel="scaled value")
        ax.legend(loc="upper left")
    fig
    """),
    md("""
    In the table, look at the levels row: the test mean sits well away from 0, and the last
    column says what share of test values lie outside anything seen in training. The
    log-return row stays near mean 0, with a spread of the same order as in training and
    few values, if any, outside the training range. That is why `Forecaster` learns on log returns by default
    (`representation="log_return"`); `"levels"` and `"simple_return"` are there to compare.

    Prices in, prices out: a forecast of returns is compounded back into prices from the
    last known price. The inverse is exact. Feeding it the *true* future returns gives back
    the true future prices (up to float32 rounding, since the scaled values are float32):
    """),
    code("""
    transform = fc.SeriesTransform().fit(prices[:split])   # log returns, standard scaler
    scaled = transform.transform(prices)                   # [L, 1]
    origin = split - 1
    true_future = scaled[None, origin + 1:origin + 6]       # [N=1, H=5, K=1], scaled
    rebuilt = transform.inverse(true_future, last_price=prices[origin][None])  # [1, 5, 1] prices
    actual = prices[origin + 1:origin + 6, 0]
    print("rebuilt:", rebuilt[0, :, 0].round(4))
    print("actual: ", actual)
    print(f"largest error: {np.abs(rebuilt[0, :, 0] - actual).max():.1e} USD")
    """),
    md("""
    ## 4. Fit the scaler on training rows only

    A scaler learns statistics: a mean and a spread, or a minimum and a maximum. If it learns
    them from the whole series, test-period information leaks into every training input. The
    plainest case is min-max scaling of levels: fitted on all rows, the training data no
    longer reaches 1.0, and the gap tells the network that prices will later climb above
    anything it was trained on.
    """),
    code("""
    honest = fc.SeriesTransform(representation="levels", scaler="minmax").fit(prices[:split])
    leaky = fc.SeriesTransform(representation="levels", scaler="minmax").fit(prices)  # all rows!
    seen_in_training = {"training rows only": honest.transform(prices[:split]),
                        "all rows (leak)": leaky.transform(prices[:split])}
    pd.DataFrame({"training inputs: min": {k: v.min() for k, v in seen_in_training.items()},
                  "training inputs: max": {k: v.max() for k, v in seen_in_training.items()}})
    """),
    md("""
    The sharper test is the **no-look-ahead** promise: a value seen at time `t` must not
    change when data after `t` changes. Below, the test rows are multiplied by 1.5 (a future
    that went differently), and we measure how much the *training* inputs move:
    """),
    code("""
    different_future = prices.copy()
    different_future[split:] *= 1.5                 # change only rows after the split

    rows = []
    for representation, scaler in [("levels", "minmax"), ("log_return", "standard")]:
        for fitted_on in ["training rows only", "all rows (leak)"]:
            changes = []
            for series in (prices, different_future):
                rows_seen = series[:split] if fitted_on == "training rows only" else series
                transform = fc.SeriesTransform(representation=representation, scaler=scaler)
                changes.append(transform.fit(rows_seen).transform(series[:split]))
            rows.append({"representation": representation, "scaler": scaler,
                         "fitted on": fitted_on,
                         "largest change of a training input":
                             np.nanmax(np.abs(changes[0] - changes[1]))})
    pd.DataFrame(rows)
    """),
    md("""
    With the scaler fitted on training rows only, the change is exactly 0: nothing after
    the split can reach the training inputs. Fitted on all rows, the training inputs move
    when only the future changed. A backtest built that way is scored on a test period it
    has already peeked at, and looks better than the model will ever do live.

    `Forecaster.fit` fits its scaler on the rows it is given, and `fc.backtest` refits it
    inside every walk-forward fold on that fold's training slice only, so this cannot happen
    by accident. The danger is when you prepare data yourself: fit on the training slice,
    then transform everything.

    **Next:** [03 · the zoo](03_the_zoo.ipynb) trains every cell and topology on these windows.
    """),
]


# ---------------------------------------------------------------------------------------------
# 03 the zoo
# ---------------------------------------------------------------------------------------------

THE_ZOO = [
    md("""
    # 03 · The zoo: cells, stacks, directions and topologies

    A model in `forecast` is a **backbone** (a recurrent cell: plain RNN, LSTM or GRU, with a
    number of layers and optionally a bidirectional encoder) plus a **topology head**
    (`n_to_1`, `n_to_n`, `n_to_m`, `1_to_n`). Both are chosen by name, so trying another
    model is one argument. Here we train eight of them on the same data with the same
    budget, and compare what they predict, how long they train and how well they do; then we
    open up the simplest cell, the Elman RNN, and watch its hidden state.
    """),
    code(SETUP),
    code("""
    table = pd.DataFrame(fc.list_models())
    table[["name", "kind", "bidirectional", "summary"]]
    """),
    md("""
    `fc.list_models()` is the same listing `forecast models` prints (with every option and
    its default). The three cells differ in how they carry memory:

    - **RNN** (Elman): one state vector, `s_t = tanh(U x_t + W s_{t-1} + b)`. Simple, but
      gradients through many steps tend to vanish or explode, so it struggles to use
      anything far back in the window.
    - **LSTM**: adds a cell state with input, forget and output gates, so information can be
      carried for many steps unchanged. Four weight blocks, the most parameters.
    - **GRU**: two gates and no separate cell state; about three quarters the size of an
      LSTM and often as good.

    **Stacking** (`num_layers=2`) feeds one layer's states into another; **bidirectional**
    runs a second encoder backwards over the window. Going backwards is only allowed where
    it cannot read the future: in the encoders of `n_to_1` and `n_to_m`, which read a window
    that lies wholly in the past.

    ## 1. Eight models, one budget

    Every model gets lookback 30, horizon 5, 32 hidden units, 5 epochs and seed 0, and is
    scored by `fc.backtest` on the last 200 bars, fitted once on everything before them
    (`refit=0`). "naive" (the random walk) is forecast on the same points, so MASE and the
    Diebold-Mariano p-value compare each model with it.
    """),
    code("""
    bars = fc.load("AAPL")
    common = dict(lookback=30, horizon=5, hidden_size=32, epochs=5, seed=0, progress=False)
    zoo = {
        "rnn": fc.Forecaster(cell="rnn", **common),
        "gru": fc.Forecaster(cell="gru", **common),
        "lstm": fc.Forecaster(cell="lstm", **common),
        "lstm-2-layers": fc.Forecaster(cell="lstm", num_layers=2, dropout=0.1, **common),
        "lstm-bidirectional": fc.Forecaster(cell="lstm", bidirectional=True, **common),
        "lstm-n_to_1": fc.Forecaster(cell="lstm", topology="n_to_1", **common),
        "lstm-n_to_n": fc.Forecaster(cell="lstm", topology="n_to_n", **common),
        "lstm-1_to_n": fc.Forecaster(cell="lstm", topology="1_to_n", **common),
    }

    # The first fit in a fresh process pays one-off start-up costs; pay them here so that the
    # "fit seconds" column compares the models rather than their order.
    warm_up = fc.Forecaster(lookback=5, horizon=1, hidden_size=4, epochs=1, progress=False)
    warm_up.fit(bars.iloc[:100])

    results, rows = {}, []
    for name, estimator in zoo.items():
        result = fc.backtest(estimator, bars, test_size=200, folds=4, refit=0, baselines=(),
                             model_name=name, keep_models=True)
        fitted = result.models[0]          # the model fitted before the first fold
        scores = result.metrics.set_index("model").loc[name]
        target = fc.make_windows(bars.iloc[:60], lookback=30, horizon=5,
                                 topology=fitted.module_.train_target).y
        results[name] = result
        rows.append({
            "model": name,
            "topology": estimator.topology,
            "inputs": f"[N, {1 if estimator.topology == '1_to_n' else 30}, "
                      f"{fitted.n_features_in_}]",
            "trained on": f"[N, {target.shape[1]}, 1]",
            "parameters": sum(p.numel() for p in fitted.module_.parameters()),
            "fit seconds": result.timings["fit_seconds"],
            "MASE": scores["mase"],
            "DM p": scores["dm_pvalue"],
        })
    zoo_table = pd.DataFrame(rows).set_index("model")
    zoo_table
    """),
    md("""
    How to read the table:

    - **inputs / trained on**: `n_to_1` and `n_to_n` read only the target column (F = 1) by
      default, because to forecast several steps they feed their own output back in as the
      next input, so inputs and outputs must be the same columns. `n_to_m` and `1_to_n` read
      all four OHLC prices. Every model *forecasts* `[N, 5, 1]`.
    - **parameters**: RNN < GRU < LSTM for the same width (1, 3 and 4 weight blocks per
      layer). Stacking adds a layer to the encoder and to the decoder; a bidirectional encoder
      adds a backward copy of the encoder and a small bridge into the decoder.
    - **fit seconds**: wall time of the single fit. It depends on the number of parameters,
      on how many sequential steps run (a decoder adds H steps after the T encoder steps)
      and on how well each cell's kernel suits the CPU, so it need not follow the
      parameter count; on a busy machine treat it as a rough guide.
    - **MASE** below 1.0 means smaller absolute errors than the naive forecast on the same
      200 bars; **DM p** is the probability of a difference at least this large if the two
      were really equally good. A p-value above 0.05 means the table cannot tell that model
      from the random walk, whatever its MASE.

    With 5 epochs, one fit and 40 forecast origins per model, differences between rows are
    mostly noise; this table shows how to compare, not which cell is best. The same loop
    with more epochs and `refit=1` (see notebook 04) is how you would decide.

    ## 2. What each topology predicts

    The last four forecast origins of the test region, forecast by the four LSTM topologies
    and by naive. Each coloured path starts at the close of its origin (the dot) and runs
    5 bars ahead.
    """),
    code("""
    shown = ["lstm", "lstm-n_to_1", "lstm-n_to_n", "lstm-1_to_n", "naive"]
    paths = pd.concat([results[name].forecasts for name in shown[:-1]])
    # Every run forecast naive on the same points: keep one copy of it.
    paths = paths[paths["model"].isin(shown)].drop_duplicates(["model", "origin", "step"])
    last_origins = sorted(paths["origin"].unique())[-4:]
    plotting.plot_forecasts(bars["Close"], paths, models=shown, origins=last_origins)
    """),
    md("""
    Naive is a flat line from each origin by construction. Recurrent forecasts that hug it
    are typical of daily prices: the networks learned that tomorrow's return is close to
    unpredictable and hedge towards "no change", sometimes with a small drift.

    ## 3. The Elman cell, written out

    `fc.ElmanRNN` computes, layer by layer and step by step,

    $$s_t = \\tanh(U x_t + W s_{t-1} + b)$$

    which is exactly what `torch.nn.RNN` computes in one fused call. `ElmanRNN.from_torch`
    copies an `nn.RNN`'s weights, so the two can be compared number for number. We take the
    **trained** RNN from the table above (the encoder of the `rnn` model) and feed both the
    same scaled windows, prepared the way `fit` prepared them: the model's own fitted
    transform (log returns, scaler statistics from its training rows), then `make_windows`.
    """),
    code("""
    fitted = results["rnn"].models[0]
    scaled = fitted.transform_.transform(bars[fitted.fit_columns_].to_numpy())   # [L, 4], row 0 NaN
    scaled_bars = pd.DataFrame(scaled, index=bars.index, columns=fitted.fit_columns_).iloc[1:]
    windows = fc.make_windows(scaled_bars, lookback=30, horizon=5,
                              features=fitted.feature_names_in_)
    x = windows.X[-100:]                            # the latest 100 windows: [N=100, T=30, F=4]

    trained_rnn = fitted.module_.encoder.rnn        # a torch.nn.RNN(4, 32, batch_first=True)
    elman = fc.ElmanRNN.from_torch(trained_rnn)
    with torch.no_grad():
        torch_states, torch_final = trained_rnn(x)  # [N, T, 32], [1, N, 32]
        states, final = elman(x)                    # the same, one step at a time
        # And the very first step by hand: s_1 = tanh(U x_1 + W s_0 + b) with s_0 = 0.
        first_step = torch.tanh(elman.U[0](x[:, 0]) + elman.W[0](torch.zeros(len(x), 32)))
    print(trained_rnn)
    print(f"max |nn.RNN - ElmanRNN| over {states.numel()} states: "
          f"{(torch_states - states).abs().max().item():.1e}")
    print("max |first step by hand - ElmanRNN|: "
          f"{(first_step - states[:, 0]).abs().max().item():.1e}")
    """),
    md("""
    The printed differences are 0 or at the level of float32 rounding (about 1e-7, when a
    build's fused kernel adds the same terms in another order): the loop *is* the
    recurrence `nn.RNN` computes. Unlike `nn.RNN`, the explicit cell hands back every state
    it computed, so we can watch the memory of the trained network move through the most
    recent window, one row per hidden unit:
    """),
    code("""
    saturated = (states.abs() > 0.9).float().mean()
    print(f"share of hidden values beyond ±0.9 (saturated tanh): {saturated:.1%}")
    fig = plotting.plot_hidden_states(states.numpy(), sample=-1, max_units=16)
    fig.axes[0].set_title("Trained RNN encoder: hidden state over the 30 bars up to "
                          f"{windows.origins[-1]:%Y-%m-%d} (16 most active of 32 units)")
    fig
    """),
    md("""
    Read it left to right: each column is one bar of the window, each row one unit of
    `s_t`. Vertical stripes are days whose return moved many units at once; units that
    change colour slowly carry information across many bars. Values near ±1 (the deepest
    red and blue) would be units in saturation, where `tanh` is flat and gradients vanish,
    one reason plain RNNs learn long dependencies poorly; the share printed above says how
    much of that this trained network shows.

    **Next:** [04 · backtesting honestly](04_backtesting_honestly.ipynb) scores one model
    properly, fold by fold.
    """),
]


# ---------------------------------------------------------------------------------------------
# 04 backtesting honestly
# ---------------------------------------------------------------------------------------------

BACKTESTING = [
    md("""
    # 04 · Backtesting honestly

    A forecast is only worth something if it beats what you would do without a model. For
    prices the default without a model is the **random walk**: tomorrow's price is today's
    ("naive"). This notebook runs a walk-forward backtest and reads every part of the
    result: the folds, the error table, the Diebold-Mariano verdict, the error by horizon,
    and a trading view after costs. Then it looks at what it means when, as here, the model
    does not beat the random walk, and checks the promise that no forecast sees the future.
    """),
    code(SETUP + """\
from forecast import trading
"""),
    md("""
    ## 1. Walk-forward folds

    The last 250 bars (about a year) are the test region, cut into 5 blocks ("folds"). Before
    each block a fresh copy of the model is fitted on every bar *before* it (an expanding
    window), scaler included, then it forecasts the block from origins every 5 bars (the
    horizon, so each model forecasts each test bar exactly once). The baselines are forecast
    from exactly the same origins.
    """),
    code("""
    bars = fc.load("AAPL")
    model = fc.Forecaster(cell="lstm", topology="n_to_m", lookback=30, horizon=5,
                          hidden_size=32, epochs=5, seed=0, progress=False)
    result = fc.backtest(model, bars, test_size=250, folds=5, refit=1, cost_bps=1.0)
    print(f"{len(result.forecasts)} forecast rows; {result.timings['total_seconds']:.1f} s in all, "
          f"{result.timings['fit_seconds']:.1f} s fitting")
    result.folds
    """),
    code("""
    result.plot("folds")
    """),
    md("""
    Each row is one fold: the blue span is what the model was trained on, the orange span
    what it then forecast; a diamond marks a refit. The training spans grow by one block
    each time and always stop the bar before the test block begins. Nothing to the right of
    a blue span ever reached that fold's model or its scaler.

    ## 2. The error table
    """),
    code("""
    result.metrics
    """),
    md("""
    One row per model, all scored on the same points (each origin × step), sorted by MASE:

    | column | meaning |
    |---|---|
    | `mae`, `rmse` | mean absolute / root mean squared error, in **price units** (USD here) |
    | `mape` | mean absolute percentage error, in **percent** |
    | `r2` | R² on price levels. It is near 1 for *any* forecast that stays near the last price (naive included), so never read it alone |
    | `mase` | MAE divided by the naive forecast's MAE on the same points: **1.0 is naive**, below 1 is better |
    | `theil_u` | RMSE of the forecast relative change over naive's (Theil's U2): also 1.0 for naive |
    | `direction_accuracy` | share of points where the forecast got the sign of the move right; compare models with 0.5, a coin flip. Naive predicts no move and so calls no direction: for it the number is not applicable (this raw table holds 0; the CLI and report.html print n/a) |
    | `dm_stat`, `dm_pvalue` | Diebold-Mariano test of the model's squared errors against naive's (negative statistic = model better) |

    `seasonal_naive` (the price 5 bars ago) and `drift` (the line from the first to the last
    training price) are two more baselines any model should at least match.

    ## 3. The verdict
    """),
    code("""
    print(result.verdict())
    """),
    md("""
    The verdict reads MASE and the Diebold-Mariano p-value together. The DM test asks: are
    the model's losses lower than naive's by more than chance would produce, given how
    noisy they are? Forecasts from one origin at steps 1..5 overlap, so the test averages
    the loss difference per origin and allows for that overlap. Only a p-value below 0.05
    *with* a negative statistic reads "beats"; below 0.05 with a positive statistic reads
    "significantly worse"; anything else reads "does not beat", however close MASE is to,
    or below, 1.0.

    ## 4. Forecasts and errors by horizon step
    """),
    code("""
    result.plot("forecasts")
    """),
    code("""
    result.per_step.pivot(index="model", columns="step", values="mase")
    """),
    code("""
    result.plot("error_by_step")
    """),
    md("""
    In the first figure, if the predicted lines look like the actual line shifted right by
    1, 3 and 5 bars, the model is mostly repeating the last price it saw: that is what a
    forecast close to the random walk looks like. In the last figure, errors grow with the
    step for every model: the further ahead, the more the price can wander. The per-step
    MASE table divides that growth out. A model whose step-1 MASE is near 1.0 has no edge
    at the shortest horizon, where an edge would be easiest to find.

    ## 5. A trading view, after costs

    Errors are not money. The trading table turns each model's forecasts into positions: at
    each origin go long if it predicts a rise and stay flat otherwise (`long_flat`), or go
    long/short on the predicted sign (`long_short`). Positions are held until the next
    origin, cost `cost_bps` basis points per unit traded, and are compared with buy-and-hold
    over the same periods.
    """),
    code("""
    result.trading
    """),
    code("""
    # Every model x rule is in result.equity(); draw the LSTM's rules against buy-and-hold.
    curves = result.equity()
    plotting.plot_equity(curves[["lstm/long_flat", "lstm/long_short", "buy_and_hold"]])
    """),
    md("""
    Naive never predicts a move, so it never trades: its rows are flat at 0 return. So is
    `seasonal_naive` here: with a season of 5 bars, its step-5 forecast (the step traded
    between origins 5 bars apart) is the price 5 bars before the target, the origin price
    itself. A model that predicts a rise at every origin holds the stock throughout, so its
    lines coincide with buy-and-hold; compare the rows of the table to see whether that
    happened here.

    Costs are charged on every change of position. Here is the same table at a few cost
    levels; a rule with a `turnover` near 0 (it entered once and held) barely feels them,
    while one that flips often pays on every flip:
    """),
    code("""
    by_cost = []
    for cost in [0.0, 1.0, 10.0, 50.0]:
        summary = trading.trading_summary(result.forecasts, cost_bps=cost)
        by_cost.append(summary.set_index("strategy")["cumulative_return"].rename(f"{cost:g} bp"))
    pd.concat(by_cost, axis=1)
    """),
    md("""
    ## 6. When the model does not beat the random walk

    Near-random-walk behaviour is what theory predicts for liquid stock prices: if past
    prices reliably said where the price would be next week, traders would already have
    traded the pattern away. A MASE close to 1.0 with a large DM p-value is the honest,
    common outcome, and a backtest that shows it has done its job: it stopped you from
    trusting a model that has no edge.

    It is still worth looking at *what* the model learned, from its step-5 forecasts:
    """),
    code("""
    lstm = result.forecasts.query("model == 'lstm' and step == 5")
    predicted_move = lstm["predicted"] / lstm["origin_price"] - 1
    actual_move = lstm["actual"] / lstm["origin_price"] - 1
    print(f"origins where the LSTM forecast a rise:        {np.mean(predicted_move > 0):.0%}")
    print(f"median size of its forecast 5-bar move:        {predicted_move.abs().median():.2%}")
    print(f"median size of the actual 5-bar move:          {actual_move.abs().median():.2%}")
    correlation = np.corrcoef(predicted_move, actual_move)[0, 1]
    print(f"correlation of forecast and actual moves:      {correlation:+.2f}")
    """),
    md("""
    If the model forecast a rise at (nearly) every origin, with moves much smaller than the
    real ones, it has learned the average upward drift of its training years and little
    else, a `drift` baseline in disguise; compare its row with `drift` in the table above.
    A correlation near 0 says the same about direction. The ways forward are more data or
    different data (other features, other tickers, see notebook 05), more training, another
    target (volatility is far more forecastable than direction), and above all the same
    backtest afterwards: a change that does not move the verdict did not help.

    ## 7. Checking the no-look-ahead promise

    A forecast made at time `t` must not change if any data after `t` changes. We can test
    that directly: run the backtest again on a copy of the data whose last 50 bars are 30%
    higher, with one fit before the test region (`refit=0`) so both runs train on identical
    data, and compare the forecasts.
    """),
    code("""
    changed = bars.copy()
    changed.loc[changed.index[-50:], ["Open", "High", "Low", "Close"]] *= 1.3
    first_changed = changed.index[-50]

    runs = [fc.backtest(model, data, test_size=250, folds=5, refit=0, baselines=())
            for data in (bars, changed)]
    predicted = [run.forecasts.query("model == 'lstm'").set_index(["origin", "step"])["predicted"]
                 for run in runs]
    origins = predicted[0].index.get_level_values("origin")
    before = origins < first_changed
    difference = (predicted[0] - predicted[1]).abs()
    print(f"data changed from {first_changed:%Y-%m-%d} on")
    print(f"{origins[before].nunique():3d} origins before it; largest change of a forecast: "
          f"{difference[before].max():.1e}")
    print(f"{origins[~before].nunique():3d} origins after it;  largest change of a forecast: "
          f"{difference[~before].max():.1e}")
    """),
    md("""
    Forecasts made before the first changed bar are identical (a change of 0): they could
    not see what came after their origin. Forecasts made after it differ, as they should,
    because their inputs changed. The same check runs in the test suite for every model.

    ## 8. Keeping the report

    `result.save(folder)` writes everything above as files: `metrics.csv`, `forecasts.csv`,
    `per_step.csv`, `trading.csv`, `folds.csv`, `config.json` (every setting needed to replay
    the run, the verdict and library versions), the four figures as PNG and a self-contained
    `report.html`. The command line does the same with `forecast backtest --out runs/aapl`.
    """),
    code("""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        saved = result.save(Path(folder) / "aapl-lstm")
        print(sorted(path.name for path in saved.iterdir()))
    """),
    md("""
    **Next:** [05 · your own data](05_your_own_data.ipynb): CSV files, yfinance tickers and
    panels of several tickers.
    """),
]


# ---------------------------------------------------------------------------------------------
# 05 your own data
# ---------------------------------------------------------------------------------------------

YOUR_OWN_DATA = [
    md("""
    # 05 · Your own data: CSV files, yfinance tickers, panels

    `fc.load` is one entry point for three kinds of source: a bundled name (`"AAPL"`), a
    file (`"prices.csv"`, `"bars.parquet"`) and a Yahoo Finance ticker (`"yahoo:SPY"`). It
    also takes several sources at once and returns a *panel*. This notebook uses each of
    them without the network: files are written into a temporary folder, and the yfinance
    path is shown through its on-disk cache.
    """),
    code(SETUP + """\
import os
import tempfile
import warnings
from pathlib import Path

workdir = tempfile.TemporaryDirectory()
folder = Path(workdir.name)
"""),
    md("""
    ## 1. A CSV with its own spelling

    Exports rarely use our column names. Here is one with `timestamp`, `OPEN`, `High`, `low`,
    `close` and `vol`, plus a column we do not use (`exchange`):
    """),
    code("""
    source = fc.load("MSFT")
    export = pd.DataFrame({
        "timestamp": source.index.strftime("%Y-%m-%d"),
        "OPEN": source["Open"].to_numpy(),
        "High": source["High"].to_numpy(),
        "low": source["Low"].to_numpy(),
        "close": source["Close"].to_numpy(),
        "vol": source["Volume"].to_numpy(),
        "exchange": "NASDAQ",
    })
    csv_path = folder / "msft_export.csv"
    export.to_csv(csv_path, index=False)
    print(csv_path.read_text().splitlines()[:3])

    mine = fc.load(csv_path)
    print(f"{mine.attrs['name']}: {len(mine)} bars, index {mine.index.name!r}, "
          f"columns {list(mine.columns)}")
    mine.head(3)
    """),
    md("""
    Column names are matched case-insensitively and without separators (`Adj_Close`,
    `adj close` and `AdjClose` are the same); `date`, `datetime`, `timestamp` and `time`
    become the `Date` index. Unknown columns (`exchange`) are kept but never used unless you
    name them as features.

    Validation refuses what it cannot fix without guessing, with one sentence that says how
    to fix it. A common case: exports that list the newest bar first.
    """),
    code("""
    newest_first = folder / "msft_newest_first.csv"
    export.iloc[::-1].to_csv(newest_first, index=False)
    try:
        fc.load(newest_first)
    except fc.DataError as error:
        print("DataError:", error)
    """),
    code("""
    # The fix the message suggests: sort by date (here in pandas, then write the file back).
    fixed = pd.read_csv(newest_first).sort_values("timestamp")
    fixed.to_csv(newest_first, index=False)
    print(len(fc.load(newest_first)), "bars after sorting")
    """),
    md("""
    What validation *can* fix, it fixes and reports. The bundled DHR series has two rows with
    empty prices and one bar whose High/Low do not cover its body; `load` drops the first
    (the default `nan_policy="drop"`; `"ffill"` and `"error"` are the alternatives), widens
    the second, and says so in a `DataWarning` and in `attrs["validation"]`:
    """),
    code("""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", fc.DataWarning)
        dhr = fc.load("DHR")
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    print(dhr.attrs["validation"] == [str(w.message) for w in caught])
    """),
    md("""
    ## 2. A yfinance ticker, through the cache

    A ticker is downloaded once with `yfinance` (split- and dividend-adjusted prices) and
    stored as a Parquet file; later loads read the file. The folder is
    `FORECAST_CACHE_DIR`, by default `~/.cache/forecast/yahoo`. With `offline=True` (or the
    environment variable `FORECAST_OFFLINE=1`) `load` reads only the cache and never touches
    the network, which is how CI and this notebook run.

    To show it without a network, we point the cache at a temporary folder and put a file
    there ourselves, in the canonical shape a download is stored in, at the path
    `cache_path` gives for the ticker `XYZ` (no start date = the whole history, no end =
    up to now):
    """),
    code("""
    from forecast.data import yahoo

    previous_cache = os.environ.get("FORECAST_CACHE_DIR")
    os.environ["FORECAST_CACHE_DIR"] = str(folder / "yahoo-cache")

    entry = yahoo.cache_path("XYZ")
    entry.parent.mkdir(parents=True, exist_ok=True)
    canonical = fc.load("KO")[["Open", "High", "Low", "Close", "Volume"]]  # float64, Date index
    canonical.to_parquet(entry)
    print("cache file:", entry.relative_to(folder))

    xyz = fc.load("yahoo:XYZ", offline=True)
    print(f"{xyz.attrs['name']}: {len(xyz)} bars, {xyz.index[0]:%Y-%m-%d} to "
          f"{xyz.index[-1]:%Y-%m-%d}")
    """),
    code("""
    try:
        fc.load("yahoo:ABC", offline=True)       # never downloaded: offline mode says so
    except fc.DataSourceError as error:
        print("DataSourceError:", error)
    """),
    md("""
    Online, the first `fc.load("yahoo:SPY")` (or `forecast data fetch SPY`) would download
    and fill this cache; an entry without an end date is refreshed after an hour, one with a
    fixed `end=` is reused forever. Files are written atomically, so an interrupted download
    never leaves half a file behind.

    ## 3. A panel of several tickers

    Several sources give one long frame indexed by `(ticker, Date)`:
    """),
    code("""
    panel = fc.load(["AAPL", "MSFT", "KO"])
    print("index levels:", panel.index.names)
    print(panel.groupby(level="ticker").size().to_string())
    panel.loc["KO"].tail(3)
    """),
    md("""
    Windows are cut ticker by ticker, so no window ever starts in one stock and ends in the
    next; the returns that the model learns on are likewise computed within each ticker.
    """),
    code("""
    windows = fc.make_windows(panel, lookback=30, horizon=5)
    print(windows)
    pd.Series(windows.tickers).value_counts().rename("windows per ticker")
    """),
    md("""
    Each ticker gives `1259 - 30 - 5 + 1 = 1225` windows. Fitting on the panel trains one
    network on all three stocks (three times the windows of one), and `predict` forecasts
    each ticker from its own last 30 bars:
    """),
    code("""
    model = fc.Forecaster(cell="gru", lookback=30, horizon=5, hidden_size=32, epochs=3,
                          seed=0, progress=False)
    model.fit(panel)
    n_tickers = panel.index.get_level_values("ticker").nunique()
    print(f"{model.history_.n_train} training windows from {n_tickers} tickers")
    model.predict(panel).unstack("ticker").round(2)
    """),
    md("""
    A backtest on a panel works the same way. Its error columns pool the points of every
    ticker (so price-unit errors weigh high-priced stocks more; MASE and the DM test compare
    with naive on exactly the same points), and the trading view holds the tickers in equal
    weights.
    """),
    code("""
    result = fc.backtest(model, panel, test_size=100, folds=2, baselines=(), mode="global")
    print(result.verdict())
    result.metrics[["model", "mae", "mape", "mase", "dm_pvalue", "n_points"]]
    """),
    code("""
    # Plot one ticker's forecasts: select it first (the figure functions draw one series).
    ko = result.forecasts.query("ticker == 'KO'")
    plotting.plot_forecast_vs_actual(ko, model="gru")
    """),
    md("""
    ## 4. The same from the command line

    ```bash
    forecast data show prices.csv                      # what load() made of your file
    forecast backtest --data prices.csv
    forecast data fetch SPY QQQ                        # fill the cache while online
    FORECAST_OFFLINE=1 forecast backtest --data yahoo:SPY
    forecast backtest --data AAPL,MSFT,KO              # a panel
    ```

    Finally, put the environment back and remove the temporary folder:
    """),
    code("""
    if previous_cache is None:
        os.environ.pop("FORECAST_CACHE_DIR")
    else:
        os.environ["FORECAST_CACHE_DIR"] = previous_cache
    workdir.cleanup()
    """),
]


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_bars_to_tensors.ipynb": BARS_TO_TENSORS,
    "03_the_zoo.ipynb": THE_ZOO,
    "04_backtesting_honestly.ipynb": BACKTESTING,
    "05_your_own_data.ipynb": YOUR_OWN_DATA,
}


def build(cells: list[nbformat.NotebookNode]) -> str:
    """The notebook as the exact text written to disk."""
    notebook = new_notebook(
        cells=[nbformat.from_dict(cell) for cell in cells],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"  # fixed ids: nbformat would draw random ones
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        text = build(cells)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/_build.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
