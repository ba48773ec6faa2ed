"""`sizing.special` hands out scipy.special's own normal-distribution ufuncs, without
the array-API layer scipy.special's ``__init__`` imports (numpy.f2py, numpy.testing,
charset_normalizer: about 0.15 s of the cockpit's start). Checked in a fresh
interpreter, since this test process has long loaded scipy.special."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import sizing.constraints, sizing.greeks, sizing.margin, sizing.risk
before = sorted(m for m in sys.modules if m.startswith(("scipy", "numpy.f2py", "numpy.testing",
                                                         "charset_normalizer")))
price = float(sizing.greeks.black76(100.0, 110.0, 0.5, 0.6, True).price)
import scipy.special, scipy.stats  # the real __init__ runs now, as the engine's first run does
import sizing.special as ss
same = {n: getattr(scipy.special, n) is getattr(ss, n) for n in ss.__all__}
print(json.dumps({"before": before, "same": same, "price": price,
                  "price_after": float(sizing.greeks.black76(100.0, 110.0, 0.5, 0.6, True).price),
                  "norm_cdf": float(scipy.stats.norm.cdf(1.0))}))
"""


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sizing_loads_the_ufuncs_not_scipy_specials_array_api_layer():
    got = _probe()
    loaded = set(got["before"])
    assert "scipy.special._ufuncs" in loaded
    assert "scipy.special" not in loaded  # its __init__ has not run
    assert not {m for m in loaded if m.startswith(("scipy._lib._array_api", "scipy._lib.array_api",
                                                   "numpy.f2py", "numpy.testing",
                                                   "charset_normalizer"))}
    # scipy.special and scipy.stats still load afterwards, re-exporting the same ufuncs
    assert got["same"] and all(got["same"].values()), got["same"]
    assert got["price"] == got["price_after"]
    assert abs(got["norm_cdf"] - 0.8413447460685429) < 1e-15  # N(1), e.g. Abramowitz-Stegun 26.2


def test_once_scipy_special_is_loaded_the_same_functions_are_used():
    import scipy.special

    import sizing.special as ss

    assert ss._load_ufuncs() is scipy.special
    for name in ss.__all__:
        assert getattr(ss, name) is getattr(scipy.special, name)
    x = np.array([-40.0, -1.0, 0.0, 1.0])
    np.testing.assert_allclose(ss.ndtr(x), [0.0, 0.15865525393145707, 0.5, 0.8413447460685429],
                               rtol=1e-15, atol=0)
    assert np.isfinite(ss.log_ndtr(-40.0)) and ss.log_ndtr(-40.0) < -800  # far tail, no -inf
