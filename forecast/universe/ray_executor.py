"""``executor="ray"``: the same units as Ray tasks, on this machine or an existing cluster.

Ray is an optional extra (``pip install "forecast-rnn[ray]"``); nothing here imports it until
a run asks for it. The cost model is the local pool's:

- **unit of work**: one ticker's backtest (:func:`forecast.universe.unit.run_ticker`), one
  Ray task with ``num_cpus=1`` and one torch thread, so Ray packs one task per core;
- **data movement**: the panel (:class:`~forecast.universe.executors.PanelArrays`) is put into
  Ray's object store **once**; each task receives a reference, and a node's workers read it
  from that node's shared-memory store (numpy arrays are zero-copy there). A task sends back
  only its ticker's tables (forecasts, metrics, trading);
- **failures**: a task whose worker dies (killed, out of memory, a lost node) is retried up
  to ``RETRIES`` times by Ray; a ticker whose own backtest fails returns its reason like any
  other executor, and is not retried (it would fail again);
- **bits**: the same spec, seeds and one thread per fit give the local executor's bits.

``address``: None starts a private local Ray (stopped again afterwards); ``"auto"`` joins the
cluster this machine belongs to (``ray start --head`` before); ``"ray://host:10001"`` connects
through Ray Client. Every worker needs the same versions of ``forecast-rnn`` (and torch)
installed as the driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from forecast.errors import ConfigError
from forecast.universe.executors import PanelArrays
from forecast.universe.unit import TickerOutcome, UnitSpec, run_ticker

__all__ = ["RETRIES", "require_ray", "run_ray"]

RETRIES = 3
INSTALL_HINT = (
    "--executor ray needs Ray, an optional extra; install it with "
    "pip install \"forecast-rnn[ray]\" (or pip install ray), or use --executor local."
)


def require_ray() -> Any:
    """Import Ray, or raise one sentence saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def run_ray(
    panel: PanelArrays,
    tickers: Sequence[str],
    spec: UnitSpec,
    *,
    address: str | None = None,
    workers: int | None = None,
) -> Iterator[TickerOutcome]:
    """Run every ticker's unit as a Ray task; yield outcomes as they finish.

    ``workers`` caps the CPUs of a private local Ray (None: all); it is ignored when joining a
    cluster, whose size is the cluster's.
    """
    ray = require_ray()
    todo = list(tickers)
    if not todo:
        return
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address is None and workers is not None:
            options["num_cpus"] = workers
        ray.init(address=address, **options)
    try:
        remote = ray.remote(num_cpus=1, max_retries=RETRIES)(_ray_unit)
        panel_ref = ray.put(panel)
        pending = {remote.remote(panel_ref, ticker, spec): ticker for ticker in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                pending.pop(ref)
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()


def _ray_unit(panel: PanelArrays, ticker: str, spec: UnitSpec) -> TickerOutcome:
    """One unit inside a Ray worker, on one torch thread (as every executor)."""
    import torch

    torch.set_num_threads(1)
    return run_ticker(panel.frame(ticker), ticker, spec)
