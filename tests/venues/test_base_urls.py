"""README's promise about ``rest_url`` / ``ws_url``: base URLs (scheme, host, port,
an optional path in front) whose venue paths are kept. The examples are README's."""

from __future__ import annotations

from types import SimpleNamespace

from cockpit.venues.ccxt_base import build_exchange
from cockpit.venues.registry import adapter_for


def _cfg(**urls):
    return SimpleNamespace(**{"sandbox": False, "rest_url": "", "ws_url": "", **urls})


def test_deribit_ws_base_keeps_the_venue_path():
    ex = build_exchange(adapter_for("deribit"), _cfg(ws_url="ws://127.0.0.1:8082"), pro=True)
    assert ex.urls["api"]["ws"] == "ws://127.0.0.1:8082/ws/api/v2"
    assert ex.urls["api"]["rest"] == "https://www.deribit.com"  # rest_url not given: untouched


def test_binance_rest_base_keeps_the_venue_path():
    ex = build_exchange(adapter_for("binanceusdm"), _cfg(rest_url="http://127.0.0.1:8081"))
    assert ex.urls["api"]["fapiPublic"] == "http://127.0.0.1:8081/fapi/v1"


def test_a_path_in_the_base_goes_in_front():
    ex = build_exchange(adapter_for("okx"), _cfg(rest_url="http://proxy:8080/okx"))
    signed = ex.sign("public/instruments", "public", "GET", {})
    assert signed["url"] == "http://proxy:8080/okx/api/v5/public/instruments"


def test_a_base_holding_the_venue_path_doubles_it():
    """Why README says to give the base without the venue's own path."""
    ex = build_exchange(adapter_for("deribit"), _cfg(ws_url="ws://127.0.0.1:8082/ws/api/v2"),
                        pro=True)
    assert ex.urls["api"]["ws"] == "ws://127.0.0.1:8082/ws/api/v2/ws/api/v2"
