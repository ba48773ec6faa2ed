"""``cockpit size``: a decision for every position, and one clean line for bad input.

tests/data/size_input.json holds a BTC perp long (720 hourly closes drawn from
a seeded Student-t(5) walk at 60 % vol), an ETH perp short with a given 85 %
forecast, six short Deribit BTC 100k calls, four long 90k calls and a flat Bybit BTC perp.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cockpit.size_cmd import run

EXAMPLE = Path(__file__).parent / "data" / "size_input.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def write(tmp_path: Path, doc) -> str:
    p = tmp_path / "in.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


def test_table_has_a_decision_for_every_position(capsys):
    assert run(["--input", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    for inst in example()["instruments"]:
        assert inst["symbol"] in out
    assert "Sizing decisions" in out
    assert "delta_band" in out and "var" in out


def test_json_output(capsys):
    assert run(["--input", str(EXAMPLE), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_symbol = {d["symbol"]: d for d in doc["decisions"]}
    assert set(by_symbol) == {i["symbol"] for i in example()["instruments"]}
    for d in doc["decisions"]:
        assert d["binding_constraint"] and d["reason"]
        assert d["current"] + d["order"] == pytest.approx(d["target"])

    # ETH: no closes, so the historical VaR falls back to delta-normal at the
    # given 85 % forecast: 2.3263 x 0.85 / sqrt(365) x 3,050 = 315.97 USD per ETH;
    # 5 % of 250,000 = 12,500 -> cap 39.56 ETH, 1.1 % below the 40 ETH short:
    # inside the 10 % no-trade band, so the policy holds.
    eth = by_symbol["ETH/USDT:USDT"]
    per_eth = 2.3263479 * 0.85 / math.sqrt(365) * 3050
    assert eth["caps"]["var"] == pytest.approx(12_500 / per_eth, rel=1e-6)
    assert eth["kind"] == "hold" and eth["binding_constraint"] == "no_trade_band"
    assert eth["orders"] == []

    # The short calls make the book short delta: the hedge buys BTC perp, and its
    # planned market order carries the whole net change.
    btc = by_symbol["BTC/USDT:USDT"]
    assert btc["kind"] == "hedge"
    assert abs(btc["inputs"]["hedge_delta_after_usd"]) <= 25_000
    (order,) = btc["orders"]
    assert order["amount"] == pytest.approx(abs(btc["order"]))
    assert order["side"] == ("buy" if btc["order"] > 0 else "sell")


def test_demo_account(capsys):
    from cockpit.config import Config
    from cockpit.demo import demo_positions
    from cockpit.venues.sim import SimMarket

    assert run(["--seed", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    symbols = {d["symbol"] for d in doc["decisions"]}
    held = {s for s, n, _ in demo_positions(SimMarket(seed=7, history_bars=50)) if n}
    assert held <= symbols
    assert all(d["reason"] for d in doc["decisions"])
    assert Config().sizing.target_vol == 0.5  # the table's header reads the config


def one_line_exit_2(capsys, argv, *needles):
    assert run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def test_bad_json(tmp_path, capsys):
    one_line_exit_2(capsys, ["--input", write(tmp_path, "{not json")], "not valid JSON")


def test_nan_price(tmp_path, capsys):
    doc = example()
    doc["instruments"][0]["mark_price"] = math.nan  # json.dumps writes NaN, json.loads reads it
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], "instruments[0].mark_price",
                    "nan")


def test_negative_price(tmp_path, capsys):
    doc = example()
    doc["instruments"][1]["mark_price"] = -3050.0
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], "instruments[1].mark_price",
                    "> 0")


def test_nan_in_closes(tmp_path, capsys):
    doc = example()
    doc["instruments"][0]["closes"][10] = math.nan
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], "instruments[0].closes")


@pytest.mark.parametrize("path,key", [
    (("account",), "equity_usd"), (("instruments", 0), "contracts"),
    (("instruments", 2), "strike"), (("instruments", 0), "symbol"),
])
def test_missing_field(tmp_path, capsys, path, key):
    doc = example()
    obj = doc
    for p in path:
        obj = obj[p]
    del obj[key]
    where = "account" if path == ("account",) else f"instruments[{path[1]}]"
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], f"{where}.{key}", "missing")


def test_unknown_setting(tmp_path, capsys):
    doc = example()
    doc["settings"] = {"target_volatility": 0.4}
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], "settings.target_volatility")


def test_bad_setting_value(tmp_path, capsys):
    doc = example()
    doc["settings"] = {"target_vol": -1}
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], "target_vol")


@pytest.mark.parametrize("settings,needle", [
    ({"target_vol": "high"}, "settings.target_vol"),
    ({"drawdown_tiers": [0.05]}, "settings.drawdown_tiers"),
    ({"allow_increases": 1}, "settings.allow_increases"),
])
def test_bad_setting_type(tmp_path, capsys, settings, needle):
    doc = example()
    doc["settings"] = settings
    one_line_exit_2(capsys, ["--input", write(tmp_path, doc)], needle)


def test_missing_file_and_bad_flag(tmp_path, capsys):
    one_line_exit_2(capsys, ["--input", str(tmp_path / "nope.json")], "nope.json")
    one_line_exit_2(capsys, ["--frobnicate"], "--frobnicate")


# ------------------------------------------------------------ Snapshot -> PortfolioState


def _snapshot(with_eth_ticker: bool = True):
    import numpy as np

    from cockpit.model import Account, Bars, Book, Instrument, Position, Snapshot, Ticker

    now = 1_790_000_000_000
    perp = Instrument("BTC/USDT:USDT", "binanceusdm", "perp", "BTC", "USDT", "USDT", True,
                      1.0, 0.001, 0.1, 0.001, 5.0, underlying="BTC")
    bybit = Instrument("BTC/USDT:USDT-B", "bybit", "perp", "BTC", "USDT", "USDT", True,
                       1.0, 0.001, 0.1, 0.001, 5.0, underlying="BTC")
    eth = Instrument("ETH/USDT:USDT", "binanceusdm", "perp", "ETH", "USDT", "USDT", True,
                     1.0, 0.01, 0.01, 0.01, 5.0, underlying="ETH")
    sol = Instrument("SOL/USDT:USDT", "binanceusdm", "perp", "SOL", "USDT", "USDT", True,
                     1.0, 0.1, 0.001, 0.1, 5.0, underlying="SOL")
    expiry = now + 73 * 86_400_000  # 0.2 years on a 365-day year
    opt = Instrument("BTC/USD:BTC-261225-100000-C", "deribit", "option", "BTC", "USD", "BTC",
                     False, 1.0, 0.1, 0.0005, 0.1, strike=100_000.0, expiry_ms=expiry,
                     option_type="call", underlying="BTC")
    closes = 60_000 * np.exp(np.cumsum(np.full(100, 0.001)))
    bars = Bars("BTC/USDT:USDT", 3600, np.arange(100) * 3_600_000, closes, closes, closes,
                closes, np.ones(100))
    tickers = {
        "BTC/USDT:USDT": Ticker("BTC/USDT:USDT", now - 2_000, 59_990, 60_010, 60_000, 60_000,
                                60_005, volume_24h=12_000.0),
        "BTC/USDT:USDT-B": Ticker("BTC/USDT:USDT-B", now, 59_990, 60_010, 60_000, 60_000,
                                  60_005),
        "BTC/USD:BTC-261225-100000-C": Ticker("BTC/USD:BTC-261225-100000-C", now, 0.01, 0.011,
                                              0.0105, 0.0105, 60_005, mark_iv=0.55,
                                              underlying_price=60_100.0),
        "SOL/USDT:USDT": Ticker("SOL/USDT:USDT", now, 99, 101, 100, 100, 100),
    }
    if with_eth_ticker:
        tickers["ETH/USDT:USDT"] = Ticker("ETH/USDT:USDT", now, 2_999, 3_001, 3_000, 3_000,
                                          3_000)
    books = {"BTC/USDT:USDT": Book("BTC/USDT:USDT", now - 5_000, np.array([[59_990.0, 1.0]]),
                                   np.array([[60_010.0, 1.0]]))}
    account = Account("sim", now, positions=(
        Position("BTC/USDT:USDT", 2.0, 58_000.0, maintenance_margin_usd=600.0),
        Position("BTC/USD:BTC-261225-100000-C", -3.0, 0.01),
        Position("ETH/USDT:USDT", -10.0, 3_100.0),
    ), equity_usd=100_000.0, maintenance_margin_usd=1_500.0, peak_equity_usd=0.0)
    instruments = {i.symbol: i for i in (perp, bybit, eth, sol, opt)}
    return Snapshot(now, 1, "demo", instruments, tickers, books, {}, {bars.symbol: bars},
                    account)


def test_state_from_snapshot_reads_positions_hedge_perps_and_forecasts():
    from cockpit.engine_input import state_from_snapshot

    state = state_from_snapshot(_snapshot(), forecasts={"BTC/USDT:USDT": 0.7})
    by = {i.symbol: i for i in state.instruments}
    # held positions first, then the other BTC perp as a hedge venue; SOL is unrelated
    assert list(by) == ["BTC/USDT:USDT", "BTC/USD:BTC-261225-100000-C", "ETH/USDT:USDT",
                        "BTC/USDT:USDT-B"]
    assert state.equity_usd == 100_000.0 and state.peak_equity_usd == 100_000.0
    btc = by["BTC/USDT:USDT"]
    assert btc.contracts == 2.0 and btc.forecast_vol == 0.7
    assert btc.data_age_s == 5.0  # the book (5 s old) is older than the ticker (2 s)
    assert btc.adv_contracts == 12_000.0 and btc.maintenance_margin_usd == 600.0
    assert len(btc.log_returns) == 99 and np.allclose(btc.log_returns, 0.001)
    opt = by["BTC/USD:BTC-261225-100000-C"]
    # the option follows the BTC perp's bars and forecast, its IV from the ticker
    assert opt.forecast_vol == 0.7 and len(opt.log_returns) == 99
    assert opt.implied_vol == 0.55 and opt.underlying_price == 60_100.0
    assert opt.years == pytest.approx(0.2) and opt.is_call and opt.strike == 100_000.0
    assert not opt.linear and opt.mark_price == 0.0105
    assert by["BTC/USDT:USDT-B"].contracts == 0.0


def test_a_position_without_a_ticker_is_held_with_a_reason():
    from cockpit.engine_input import state_from_snapshot
    from sizing.policy import decide

    state = state_from_snapshot(_snapshot(with_eth_ticker=False),
                                forecasts={"BTC/USDT:USDT": 0.7})
    (eth,) = [d for d in decide(state) if d.symbol == "ETH/USDT:USDT"]
    assert eth.kind == "hold" and eth.order == 0.0 and "mark_price" in eth.reason


def test_state_file_paper_account(tmp_path, capsys):
    from cockpit.config import Config
    from cockpit.runtime import build_demo

    path = tmp_path / "paper.sqlite"
    one_line_exit_2(capsys, ["--state", str(path)], "no such file")
    build_demo(Config(), seed=3, state_path=path).broker.close()  # seeds, persists, unlocks
    assert run(["--state", str(path), "--seed", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    kinds = {d["kind"] for d in doc["decisions"]}
    assert doc["equity_usd"] > 0 and kinds <= {"resize", "hedge", "hold"}
    assert len([d for d in doc["decisions"] if d["current"] != 0]) >= 4
