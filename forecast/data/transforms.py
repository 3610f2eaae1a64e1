"""Target representations (price levels, simple returns, log returns) and their scalers.

A network learns better on stationary, unit-scale numbers than on raw prices, but users read
prices. :class:`SeriesTransform` maps prices to a scaled representation and back, exactly:

==================  ==========================  =========================================
representation      value at row t              inverse from the last known price ``p0``
==================  ==========================  =========================================
``levels``          ``p[t]``                    ``p[h]`` (just unscale)
``simple_return``   ``p[t] / p[t-1] - 1``       ``p0 * cumprod(1 + r)``
``log_return``      ``log(p[t] / p[t-1])``      ``p0 * exp(cumsum(r))``
==================  ==========================  =========================================

Returns have no value at row 0 (no previous price); it is NaN. The scaler (scikit-learn's
``StandardScaler``, ``MinMaxScaler``, ``RobustScaler``, or ``"none"``) is fitted on the
representation of the rows given to ``fit`` only.

Legend for shapes: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets; ``L`` rows and ``C`` columns of a price array.

.. warning::
   Leakage: ``fit`` must only ever see the training rows. Fitting on the full series lets
   the scaler's mean, range or quantiles carry information from the test period into
   training, and every backtest built on it is optimistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from forecast.errors import ConfigError, DataError, NotFittedError
from forecast.settings import REPRESENTATIONS, SCALERS

__all__ = [
    "REPRESENTATIONS",
    "SCALERS",
    "SeriesTransform",
    "from_representation",
    "to_representation",
]


Scaler = StandardScaler | MinMaxScaler | RobustScaler

# Fitted attributes of each scikit-learn scaler that its transform and inverse read; to_dict
# saves exactly these so from_dict rebuilds a scaler that computes bit-identical numbers.
_SCALER_STATE: dict[str, tuple[type[Any], tuple[str, ...]]] = {
    "standard": (StandardScaler, ("mean_", "var_", "scale_")),
    "minmax": (MinMaxScaler, ("min_", "scale_", "data_min_", "data_max_", "data_range_")),
    "robust": (RobustScaler, ("center_", "scale_")),
}
_FORMAT = "forecast.SeriesTransform/1"


def to_representation(prices: np.ndarray, kind: str) -> np.ndarray:
    """Turn prices into levels, simple returns or log returns (unscaled).

    Parameters
    ----------
    prices
        ``[L, C]`` (or ``[L]``) prices in the data's currency units.
    kind
        One of :data:`REPRESENTATIONS`.

    Returns
    -------
    ndarray
        float64, same shape as ``prices``; for returns row 0 is NaN (no previous price).
        Simple returns are fractions (0.01 is +1 %), log returns are natural-log ratios.

    Raises
    ------
    ConfigError
        If ``kind`` is not a representation.
    DataError
        If ``kind`` is a return and a price is zero or negative.
    """
    _check_choice("representation", kind, REPRESENTATIONS)
    values = np.asarray(prices, dtype=np.float64)
    if kind == "levels":
        return values.copy()
    _check_positive(values)
    out = np.full_like(values, np.nan)
    if kind == "log_return":
        logs = np.log(values)
        out[1:] = logs[1:] - logs[:-1]
    else:
        out[1:] = values[1:] / values[:-1] - 1.0
    return out


def from_representation(values: np.ndarray, last_price: np.ndarray, kind: str) -> np.ndarray:
    """Turn H consecutive future values of a representation back into prices, exactly.

    Parameters
    ----------
    values
        ``[..., H, C]`` unscaled representation of the H steps after the origin (``[N, H, C]``
        for N windows, ``[H, C]`` for one).
    last_price
        ``[..., C]`` the price at the origin (the last known price before the H steps).
        Ignored for ``"levels"``.
    kind
        One of :data:`REPRESENTATIONS`.

    Returns
    -------
    ndarray
        ``[..., H, C]`` float64 prices: returns are compounded from ``last_price``
        (log: ``last * exp(cumsum(r))``, simple: ``last * cumprod(1 + r)``).
    """
    _check_choice("representation", kind, REPRESENTATIONS)
    steps = np.asarray(values, dtype=np.float64)
    if kind == "levels":
        return steps.copy()
    start = np.asarray(last_price, dtype=np.float64)[..., None, :]  # [..., 1, C]
    if kind == "log_return":
        return start * np.exp(np.cumsum(steps, axis=-2))
    return start * np.cumprod(1.0 + steps, axis=-2)


class SeriesTransform:
    """Prices <-> scaled representation, fitted on training rows, with an exact inverse.

    Parameters
    ----------
    representation
        ``"log_return"`` (default), ``"simple_return"`` or ``"levels"``. Returns need
        strictly positive prices.
    scaler
        ``"standard"`` (default, zero mean and unit variance), ``"minmax"`` (to [0, 1]),
        ``"robust"`` (median and interquartile range) or ``"none"``.

    Attributes
    ----------
    scaler_ : StandardScaler | MinMaxScaler | RobustScaler | None
        The fitted scikit-learn scaler (None for ``scaler="none"``).
    n_columns_ : int
        Number of price columns seen by ``fit``.

    Warnings
    --------
    Leakage: call ``fit`` on the training rows only (inside each walk-forward fold), never on
    the whole series; the scaler's statistics would otherwise carry test-period information.

    Examples
    --------
    >>> prices = np.array([[100.0], [101.0], [99.0], [102.0], [103.0]])
    >>> transform = SeriesTransform(representation="log_return").fit(prices[:4])
    >>> scaled = transform.transform(prices)          # [L, C]; row 0 is NaN
    >>> future = scaled[None, 4:5]                    # [N=1, H=1, C=1]
    >>> transform.inverse(future, last_price=prices[3:4]).round(6)
    array([[[103.]]])
    """

    def __init__(self, *, representation: str = "log_return", scaler: str = "standard") -> None:
        self.representation = representation
        self.scaler = scaler

    def __repr__(self) -> str:
        changed = [
            f"{name}={value!r}"
            for name, value, default in (
                ("representation", self.representation, "log_return"),
                ("scaler", self.scaler, "standard"),
            )
            if value != default
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- fitting -------------------------------------------------------------------------

    @classmethod
    def check_options(cls, *, representation: str, scaler: str) -> None:
        """Raise :class:`ConfigError` if either name is not valid (listing the valid ones)."""
        _check_choice("representation", representation, REPRESENTATIONS)
        _check_choice("scaler", scaler, SCALERS)

    def fit(self, prices: np.ndarray | Sequence[np.ndarray]) -> SeriesTransform:
        """Fit the scaler on the representation of these (training) rows only.

        Parameters
        ----------
        prices
            ``[L, C]`` training prices, finite; strictly positive for returns. For returns
            the first row only serves as the previous price of the second (its return is
            NaN and is left out of the scaler's statistics). A list of ``[L_i, C]`` arrays
            (one per ticker of a panel) pools their representations, so no return is ever
            computed across two tickers.

        Returns
        -------
        SeriesTransform
            ``self``, fitted.

        Raises
        ------
        ConfigError
            If ``representation`` or ``scaler`` is not a valid name.
        DataError
            If ``prices`` is not 2-D, holds NaN/inf or (for returns) non-positive values,
            or has too few rows (1 for levels, 2 for returns).

        Warnings
        --------
        Leakage: pass the training slice only, never rows the model is evaluated on.
        """
        self.check_options(representation=self.representation, scaler=self.scaler)
        series = list(prices) if isinstance(prices, list | tuple) else [prices]
        pieces = []
        for part in series:
            values = _as_price_array(part, "fit")
            if not np.isfinite(values).all():
                raise DataError(
                    "the prices given to SeriesTransform.fit hold NaN or inf; "
                    "run forecast.validate (or load the data with forecast.load) first."
                )
            represented = to_representation(values, self.representation)
            first = 0 if self.representation == "levels" else 1
            _check_representable(represented[first:], self.representation, "fit", first)
            pieces.append(represented[first:])
        widths = {piece.shape[1] for piece in pieces}
        if len(widths) != 1:
            raise DataError(
                f"SeriesTransform.fit got series with different column counts {sorted(widths)}; "
                "pass the same columns for every ticker."
            )
        usable = np.concatenate(pieces)
        if len(usable) == 0:
            needed = 1 if self.representation == "levels" else 2
            raise DataError(
                f"SeriesTransform.fit got too few rows: representation={self.representation!r} "
                f"needs at least {needed} per series; pass a longer training slice."
            )
        self.scaler_ = _new_scaler(self.scaler)
        if self.scaler_ is not None:
            self.scaler_.fit(usable)
        self.n_columns_ = int(widths.pop())
        return self

    # -- forward ---------------------------------------------------------------------------

    def transform(self, prices: np.ndarray) -> np.ndarray:
        """Map prices to the scaled representation.

        Parameters
        ----------
        prices
            ``[L, C]`` prices, the same C columns as in ``fit``.

        Returns
        -------
        ndarray
            ``[L, C]`` float32 scaled representation; for returns row 0 is NaN. Row t depends
            only on rows t-1 and t, so cutting ``prices`` later does not change earlier rows.

        Raises
        ------
        NotFittedError
            If ``fit`` has not been called.
        DataError
            If the column count differs from ``fit``, or a return sees a non-positive price.
        """
        self._check_fitted("transform")
        values = _as_price_array(prices, "transform")
        self._check_width(values.shape[1], "transform")
        represented = to_representation(values, self.representation)
        first = 0 if self.representation == "levels" else min(1, len(represented))
        _check_representable(represented[first:], self.representation, "transform", first)
        if self.scaler_ is not None and len(represented) > first:
            represented[first:] = self.scaler_.transform(represented[first:])
        scaled = represented.astype(np.float32)
        _check_representable(scaled[first:], self.representation, "transform", first)
        return scaled

    # -- backward --------------------------------------------------------------------------

    def unscale(
        self, scaled: np.ndarray, columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Undo the scaler only: scaled values -> unscaled representation (float64).

        Parameters
        ----------
        scaled
            ``[..., C']`` scaled values (any leading shape, e.g. ``[N, H, C']``).
        columns
            Which fitted columns the C' last-axis entries are (default: all, in order).

        Returns
        -------
        ndarray
            ``[..., C']`` float64 representation (returns as fractions / log ratios, levels
            as prices).
        """
        self._check_fitted("unscale")
        values = _as_float64(scaled)
        index = self._column_index(columns, values.shape[-1])
        return _unscale(self.scaler, self.scaler_, values, index)

    def inverse(
        self,
        scaled: np.ndarray,
        last_price: np.ndarray,
        columns: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Map H consecutive scaled future steps back to prices, compounding from the origin.

        Parameters
        ----------
        scaled
            ``[N, H, C']`` scaled representation of the H steps after each window's origin
            (e.g. a model's forecast ``[N, H, K]``); NumPy arrays or CPU tensors.
        last_price
            ``[N, C']`` the price at each origin (the last row the window saw).
        columns
            Which of the fitted columns the C' entries are (e.g. ``[3]`` for Close when
            fitted on OHLC); default all of them, in order.

        Returns
        -------
        ndarray
            ``[N, H, C']`` float64 prices, in the data's currency units. Exact up to
            floating point: the true future returns reproduce the true future prices.

        Raises
        ------
        NotFittedError
            If ``fit`` has not been called.
        DataError
            If the shapes of ``scaled``, ``last_price`` and ``columns`` disagree.
        ConfigError
            If a column index is outside the fitted columns.
        """
        self._check_fitted("inverse")
        values, start = self._check_pair(scaled, last_price, "last_price")
        represented = self.unscale(values, columns)
        return from_representation(represented, start, self.representation)

    # -- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (settings and fitted statistics as lists of floats), no pickle.

        Python floats print with enough digits to round-trip, so :meth:`from_dict` rebuilds a
        transform whose ``transform`` and ``inverse`` are bit-for-bit identical.
        """
        state: dict[str, Any] = {
            "format": _FORMAT,
            "representation": self.representation,
            "scaler": self.scaler,
        }
        if not hasattr(self, "n_columns_"):
            return state
        state["n_columns"] = self.n_columns_
        state["statistics"] = _scaler_statistics(self.scaler, self.scaler_)
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> SeriesTransform:
        """Rebuild a transform (fitted if the state was) from :meth:`to_dict` output.

        Raises
        ------
        ConfigError
            If the state is not a SeriesTransform state or names unknown settings.
        """
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ConfigError(
                f"this is not a SeriesTransform state (expected format {_FORMAT!r}); "
                "pass the dict that SeriesTransform.to_dict() produced."
            )
        transform = cls(representation=state["representation"], scaler=state["scaler"])
        _check_choice("representation", transform.representation, REPRESENTATIONS)
        _check_choice("scaler", transform.scaler, SCALERS)
        if "n_columns" in state:
            n_columns = state["n_columns"]
            if not isinstance(n_columns, int) or isinstance(n_columns, bool) or n_columns < 1:
                raise ConfigError(
                    f"the SeriesTransform state has n_columns={n_columns!r}; expected a "
                    "positive integer; save it again with SeriesTransform.to_dict()."
                )
            transform.n_columns_ = n_columns
            transform.scaler_ = _restore_scaler(
                transform.scaler, state.get("statistics", {}), transform.n_columns_
            )
        return transform

    # -- checks ----------------------------------------------------------------------------

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "n_columns_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet, so {method} cannot run; "
                "call fit(prices) on the training rows first."
            )

    def _check_width(self, width: int, method: str) -> None:
        if width != self.n_columns_:
            raise DataError(
                f"{type(self).__name__}.{method} got {width} column(s) but was fitted on "
                f"{self.n_columns_}; pass the same columns as in fit."
            )

    def _column_index(self, columns: Sequence[int] | None, width: int) -> np.ndarray:
        if columns is None:
            self._check_width(width, "inverse")
            return np.arange(self.n_columns_)
        index = np.asarray(columns, dtype=np.int64).reshape(-1)
        bad = (index < 0) | (index >= self.n_columns_)
        if bad.any():
            raise ConfigError(
                f"columns={list(map(int, index))} names column {int(index[bad][0])}, but the "
                f"transform was fitted on columns 0..{self.n_columns_ - 1}; pass indices "
                "into the fitted columns."
            )
        if len(index) != width:
            raise DataError(
                f"columns names {len(index)} column(s) but the values have {width}; "
                "pass one index per last-axis entry."
            )
        return index

    def _check_pair(
        self, scaled: np.ndarray, start: np.ndarray, start_name: str
    ) -> tuple[np.ndarray, np.ndarray]:
        values = _as_float64(scaled)
        first = _as_float64(start)
        if values.ndim != 3 or first.shape != (values.shape[0], values.shape[2]):
            raise DataError(
                f"inverse got scaled of shape {values.shape} and {start_name} of shape "
                f"{first.shape}; pass scaled as [N, H, C'] and {start_name} as [N, C']."
            )
        return values, first


# -- helpers ---------------------------------------------------------------------------------


def _check_choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"SeriesTransform({option}={value!r}) is not valid; choose one of "
            f"{', '.join(map(repr, allowed))}."
        )


def _check_positive(values: np.ndarray) -> None:
    bad = values <= 0
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        column = position[-1] if values.ndim > 1 else 0
        raise DataError(
            f"price column {column} holds a non-positive value ({values[position]:g} at row "
            f"{position[0]}), which returns cannot use; choose representation='levels' or "
            "remove those rows."
        )


def _check_representable(
    values: np.ndarray, representation: str, method: str, offset: int
) -> None:
    """Refuse a representation that overflowed (float64, or float32 for the network);
    ``values`` starts at row ``offset`` of the prices."""
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0][0]) + offset
        raise DataError(
            f"SeriesTransform.{method}: the {representation} of the prices is too large to "
            f"represent (row {row}), so the series jumps by an implausible factor between "
            "two rows; clean that jump, or use representation='log_return' (or 'levels')."
        )


def _as_float64(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor: no torch import needed here
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def _as_price_array(prices: Any, method: str) -> np.ndarray:
    values = _as_float64(prices)
    if values.ndim != 2:
        raise DataError(
            f"SeriesTransform.{method} expects prices shaped [L, C], got shape {values.shape}; "
            "pass a 2-D array (a single series as prices.reshape(-1, 1))."
        )
    return values


def _new_scaler(name: str) -> Scaler | None:
    if name == "none":
        return None
    scaler_class, _ = _SCALER_STATE[name]
    return scaler_class()


def _unscale(
    name: str, scaler: Scaler | None, values: np.ndarray, index: np.ndarray
) -> np.ndarray:
    # The same operations, in the same order, as each scaler's own inverse_transform, but
    # restricted to the columns in `index` (sklearn's inverse needs every fitted column).
    if scaler is None:
        return values.copy()
    if name == "standard":
        return values * scaler.scale_[index] + scaler.mean_[index]
    if name == "minmax":
        return (values - scaler.min_[index]) / scaler.scale_[index]
    return values * scaler.scale_[index] + scaler.center_[index]


def _scaler_statistics(name: str, scaler: Scaler | None) -> dict[str, Any]:
    if scaler is None:
        return {}
    _, attributes = _SCALER_STATE[name]
    statistics: dict[str, Any] = {
        attribute: np.asarray(getattr(scaler, attribute), dtype=np.float64).tolist()
        for attribute in attributes
    }
    if hasattr(scaler, "n_samples_seen_"):
        statistics["n_samples_seen_"] = int(scaler.n_samples_seen_)
    return statistics


def _restore_scaler(name: str, statistics: dict[str, Any], n_columns: int) -> Scaler | None:
    scaler = _new_scaler(name)
    if scaler is None:
        return None
    _, attributes = _SCALER_STATE[name]
    missing = [attribute for attribute in attributes if attribute not in statistics]
    if missing:
        raise ConfigError(
            f"the SeriesTransform state lacks the {name} scaler statistic {missing[0]!r}; "
            "save it again with SeriesTransform.to_dict()."
        )
    for attribute in attributes:
        try:
            values = np.asarray(statistics[attribute], dtype=np.float64)
        except (TypeError, ValueError):
            values = np.empty(0)
        # A damaged or edited state must not reach the arithmetic: wrong lengths would
        # broadcast or fail later, NaN or a zero scale would turn every forecast into NaN/inf.
        usable = values.shape == (n_columns,) and bool(np.isfinite(values).all())
        if attribute == "scale_":
            usable = usable and bool((values != 0).all())
        if not usable:
            raise ConfigError(
                f"the SeriesTransform state's {name} scaler statistic {attribute!r} is not "
                f"{n_columns} finite number(s){' (non-zero)' if attribute == 'scale_' else ''}; "
                "save it again with SeriesTransform.to_dict()."
            )
        setattr(scaler, attribute, values)
    if "n_samples_seen_" in statistics:
        scaler.n_samples_seen_ = statistics["n_samples_seen_"]
    scaler.n_features_in_ = n_columns
    return scaler
