"""The compiled yardstick for ``bench_greeks``: a plain numba loop of the same
Black-76 formulas as ``sizing.greeks.black76`` (price and the five Greeks, six
output arrays allocated per call, as ours are). Imported only when numba is
installed (``pip install -e '.[bench]'``); the cockpit never needs it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@numba.njit(cache=False)
def black76_loop(forward, strike, years, vol, is_call):
    n = strike.size
    out = np.empty((6, n))
    for i in range(n):
        sq = math.sqrt(years[i])
        s = vol[i] * sq
        d1 = math.log(forward / strike[i]) / s + 0.5 * s
        w = 1.0 if is_call[i] else -1.0
        n1 = 0.5 * math.erfc(-w * d1 * _INV_SQRT2)
        n2 = 0.5 * math.erfc(-w * (d1 - s) * _INV_SQRT2)
        pdf = math.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
        price = w * (forward * n1 - strike[i] * n2)
        out[0, i] = price
        out[1, i] = w * n1
        out[2, i] = pdf / (forward * s)
        out[3, i] = forward * pdf * sq * 0.01
        out[4, i] = -forward * pdf * vol[i] / (730.0 * sq)
        out[5, i] = -years[i] * price * 0.01
    return out
