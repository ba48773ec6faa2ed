"""View builders: Snapshot (+ engine results) -> the plain views the panels render.

This is where the panels' numbers are computed, with ``sizing`` doing the
maths (Black-76 Greeks, liquidation distance, book walks); the widgets only
format. Builders never raise on market data: a number that cannot be had is
None with a one-line note saying why.

Conventions: crypto trades 365 days a year (vol_annual / sqrt(365) is one
day's sigma; option time to expiry in 365-day years); hourly bars give
8,760 periods a year.
"""

from cockpit.views.common import bars_symbol, forecast_for
from cockpit.views.depth import depth_view
from cockpit.views.greeks import greeks_view
from cockpit.views.margin import margin_view
from cockpit.views.positions import positions_view
from cockpit.views.status import status_view
from cockpit.views.stress import funding_rows, stress_view
from cockpit.views.suggestions import orders_text, suggestions_view
from cockpit.views.volatility import vol_view

__all__ = [
    "bars_symbol",
    "depth_view",
    "forecast_for",
    "greeks_view",
    "margin_view",
    "orders_text",
    "positions_view",
    "status_view",
    "stress_view",
    "funding_rows",
    "suggestions_view",
    "vol_view",
]
