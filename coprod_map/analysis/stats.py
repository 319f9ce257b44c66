"""Small statistics used by the analyses: the Wilson score interval for a proportion.

Why Wilson and not the textbook ``p ± 1.96·sqrt(p(1-p)/n)``: with the small groups co-production
work deals in (3 of 12, 0 of 20) the textbook interval goes below 0 or above 1 and claims certainty
it does not have (a width of 0 when nobody from a group took part). Wilson's interval stays inside
0-1 and keeps a sensible width at 0 and n (Wilson 1927; Newcombe 1998, method 3; Agresti & Coull
1998 recommend it for exactly this reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["Z_95", "wilson_interval"]

#: The two-sided 95% normal quantile, Φ⁻¹(0.975).
Z_95 = 1.959963984540054


def wilson_interval(successes, trials, *, z: float = Z_95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes`` out of ``trials``, element by element.

    Accepts scalars, arrays or Series (nullable counts too). Where ``trials`` is 0 or missing
    both ends are NaN: there is nothing to estimate. Counts are cast to float first, so large
    ``n`` cannot overflow an integer type (the trap ``performance.md`` found with polars' UInt32).

    Examples
    --------
    Newcombe (1998), Table I, example "81/263" gives 0.2553-0.3662:

    >>> low, high = wilson_interval(81, 263)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2553, 0.3662)
    >>> low, high = wilson_interval([8, 0], [10, 10])
    >>> [round(float(v), 3) for v in low], [round(float(v), 3) for v in high]
    ([0.49, 0.0], [0.943, 0.278])
    """
    k = _as_float(successes)
    n = _as_float(trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_safe = np.where(n > 0, n, np.nan)
        p = k / n_safe
        z2 = z * z
        denom = 1.0 + z2 / n_safe
        centre = (p + z2 / (2.0 * n_safe)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_safe + z2 / (4.0 * n_safe * n_safe)) / denom
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    # At k = 0 (or k = n) the exact end is 0 (or 1); rounding can leave 1e-17 instead.
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    invalid = ~(n > 0)
    low = np.where(invalid, np.nan, low)
    high = np.where(invalid, np.nan, high)
    return low, high


def _as_float(values) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(values)), errors="coerce"), dtype="float64").reshape(
        np.shape(values)
    )
