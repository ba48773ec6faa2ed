"""The normal-distribution ufuncs of scipy.special, loaded without its package ``__init__``.

``ndtr`` (the standard normal CDF), ``log_ndtr`` (its log, accurate in the far
tail), ``ndtri`` (its inverse), ``erfcx`` (the scaled complementary error
function exp(x^2) erfc(x)) and ``gammaln`` (ln |Gamma(x)|) are the very same
compiled numpy ufuncs that ``scipy.special`` exports (``scipy.special.ndtr is
sizing.special.ndtr`` once both are loaded): same numbers, same ``out=``.

Why not ``from scipy.special import ndtr``: scipy 1.17's ``scipy.special``
``__init__`` imports its array-API layer, whose ``clone_module("numpy")`` touches
every lazy numpy submodule (``numpy.f2py``, ``numpy.testing``, ``numpy.ma``,
``numpy.polynomial``, and through f2py ``charset_normalizer``): about 0.15 s of
the cockpit's start-up, for functions the demo needs before its first screen
(the built-in market prices its options with Black-76). The compiled
``scipy.special._ufuncs`` module needs none of that; only its parent package
must be in ``sys.modules`` while it loads, so a bare module object (the
package's spec, its ``__init__`` not run) stands in for those few lines and is
removed again. A later ``import scipy.special`` (scipy.stats, arch) runs the real
``__init__``, which finds ``_ufuncs`` already loaded and re-exports it.

If scipy's layout ever changes so this fails, the plain ``scipy.special`` import
is used instead: slower start, same functions.
"""

from __future__ import annotations

import importlib.util
import sys


def _load_ufuncs():
    """``scipy.special._ufuncs``, without running ``scipy.special.__init__`` if it
    has not run yet. Runs once, at import of this module (single-threaded start-up:
    another thread importing scipy.special in those lines would see the bare module)."""
    if "scipy.special" in sys.modules:
        return sys.modules["scipy.special"]
    try:
        spec = importlib.util.find_spec("scipy.special")
        bare = importlib.util.module_from_spec(spec)
        sys.modules["scipy.special"] = bare
        try:
            from scipy.special import _ufuncs
        finally:
            if sys.modules.get("scipy.special") is bare:
                del sys.modules["scipy.special"]
        return _ufuncs
    except Exception:  # a scipy this trick does not fit: the ordinary import
        import scipy.special

        return scipy.special


_u = _load_ufuncs()
ndtr = _u.ndtr
log_ndtr = _u.log_ndtr
ndtri = _u.ndtri
erfcx = _u.erfcx
gammaln = _u.gammaln

__all__ = ["erfcx", "gammaln", "log_ndtr", "ndtr", "ndtri"]
