"""Topology names: the four ways a recurrent network maps input steps to forecast steps.

Legend used in every docstring: **N** windows, **T** lookback steps, **F** input features,
**H** horizon, **K** targets. Batch-first everywhere.

============  ==================  =======================  ==================================
name          aliases             input                    training target
============  ==================  =======================  ==================================
``n_to_1``    many_to_one         ``[N, T, F]``            ``[N, 1, K]`` the next step
``n_to_n``    many_to_many        ``[N, T, F]``            ``[N, T, K]`` the step after each
``n_to_m``    seq2seq, enc_dec    ``[N, T, F]``            ``[N, H, K]`` the next H steps
``1_to_n``    one_to_many         ``[N, 1, F]``            ``[N, H, K]`` the next H steps
============  ==================  =======================  ==================================

Every topology forecasts ``[N, H, K]`` at prediction time (N-to-1 and N-to-N by feeding their
own output back, or by a direct head).
"""

from __future__ import annotations

from forecast.errors import ConfigError

__all__ = ["TOPOLOGIES", "TOPOLOGY_ALIASES", "canonical_topology"]

TOPOLOGIES: tuple[str, ...] = ("n_to_1", "n_to_n", "n_to_m", "1_to_n")
TOPOLOGY_ALIASES: dict[str, str] = {
    "many_to_one": "n_to_1",
    "many-to-one": "n_to_1",
    "n-to-1": "n_to_1",
    "many_to_many": "n_to_n",
    "many-to-many": "n_to_n",
    "n-to-n": "n_to_n",
    "seq2seq": "n_to_m",
    "encoder_decoder": "n_to_m",
    "enc_dec": "n_to_m",
    "n-to-m": "n_to_m",
    "one_to_many": "1_to_n",
    "one-to-many": "1_to_n",
    "1-to-n": "1_to_n",
}


def canonical_topology(name: str) -> str:
    """Return the canonical topology name for ``name`` or one of its aliases.

    Raises
    ------
    ConfigError
        If ``name`` is not a topology; the message lists the valid names.
    """
    key = str(name).strip().lower()
    if key in TOPOLOGIES:
        return key
    if key in TOPOLOGY_ALIASES:
        return TOPOLOGY_ALIASES[key]
    raise ConfigError(
        f"topology={name!r} is not known; choose one of {', '.join(TOPOLOGIES)} "
        f"(aliases: {', '.join(sorted(TOPOLOGY_ALIASES))})."
    )
