"""The sizing engine: a pure library, numbers in and explained decisions out.

Imports numpy, scipy and (lazily, inside ``volatility.garch_forecast``) arch, and
nothing of the app: no textual, rich, ccxt, httpx or cockpit module, so it runs
in a notebook or a benchmark as well as behind the cockpit. Import the concept
you need, e.g. ``from sizing.greeks import black76, implied_vol``.

This package module imports nothing itself, so ``import sizing`` stays cheap.
"""
