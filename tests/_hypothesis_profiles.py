"""Hypothesis budgets for the reliability suites: a small CI sample, or thousands when fuzzing.

Two profiles are registered:

``reliability-ci`` (the default)
    Few examples per test, derandomized (the same examples on every run, so CI cannot flake
    on a newly drawn input), no deadline (tiny models still take tens of milliseconds to fit),
    and no shrinking (a failing example is reported as drawn, at once: shrinking a failure
    that refits models can take many minutes; rerun with the fuzz profile to shrink it).
``reliability-fuzz``
    Thousands of random examples per test. Select it with ``FORECAST_FUZZ=1`` or
    ``HYPOTHESIS_PROFILE=fuzz`` (``reliability-fuzz`` works too)::

        FORECAST_FUZZ=1 python -m pytest tests/test_reliability_fuzz.py -q

The profiles are applied per test through :func:`budget` rather than loaded globally, so
importing this module never changes the settings of other test modules.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["FUZZING", "PROFILE", "budget"]

_SLOW_IS_FINE = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]

settings.register_profile(
    "reliability-ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "reliability-fuzz",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)


def _fuzzing() -> bool:
    flag = os.environ.get("FORECAST_FUZZ", "").strip().lower() in {"1", "true", "yes", "on"}
    profile = os.environ.get("HYPOTHESIS_PROFILE", "").strip().lower()
    return flag or profile in {"fuzz", "reliability-fuzz"}


FUZZING: bool = _fuzzing()
PROFILE: str = "reliability-fuzz" if FUZZING else "reliability-ci"


def budget(ci: int, fuzz: int = 2000) -> settings:
    """Settings of the active profile with ``ci`` or ``fuzz`` examples per test."""
    return settings(settings.get_profile(PROFILE), max_examples=fuzz if FUZZING else ci)
