"""The alert detector: margin crossings with hysteresis, trading-state changes,
breakers, and liquidations / expiries / executions from what the desk journals;
and the ``[alerts]`` config section's one-line errors."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cockpit.alerts import AlertDetector, execution_ended
from cockpit.config import Config, ConfigError, load_config
from cockpit.desk_sync import journal_account_events
from cockpit.journal import Journal
from cockpit.model import Account, Fill, Instrument, Snapshot

T0 = 1_795_420_800_000  # 2026-11-23 08:00:00 UTC (date -u -d @1795420800)
OPTION = "BTC/USD:BTC-261225-100000-C"


def kinds(alerts):
    return [a.kind for a in alerts]


def test_amber_fires_once_per_crossing_and_rearms_only_well_below():
    d = AlertDetector(0.5, 0.8, rearm_fraction=0.9)
    fired = []
    for ratio in (0.30, 0.55, 0.60, 0.48, 0.52, 0.46, 0.51, 0.44, 0.50):
        fired.append(kinds(d.observe(T0, margin_ratio=ratio)))
    # 0.48 and 0.46 are below amber but not below 90 % of it (0.45): still disarmed;
    # 0.44 re-arms, and 0.50 (exactly at the threshold) is a crossing
    assert fired == [[], ["margin_amber"], [], [], [], [], [], [], ["margin_amber"]]


def test_a_jump_to_red_raises_amber_and_red_with_readable_lines():
    d = AlertDetector(0.5, 0.8)
    out = d.observe(T0, margin_ratio=0.853)
    assert kinds(out) == ["margin_amber", "margin_red"]
    amber, red = out
    assert (amber.severity, red.severity) == ("warning", "error")
    assert red.text == "margin ratio 85.3% crossed RED (80%) at 2026-11-23 08:00:00 UTC"
    assert d.observe(T0 + 1000, margin_ratio=0.9) == []
    # back to amber only: red re-arms below 72 %, amber stays fired
    assert d.observe(T0 + 2000, margin_ratio=0.70) == []
    assert kinds(d.observe(T0 + 3000, margin_ratio=0.81)) == ["margin_red"]


def test_a_ratio_already_red_at_start_alerts_and_nan_is_ignored():
    d = AlertDetector(0.5, 0.8)
    assert d.observe(T0, margin_ratio=float("nan")) == []
    assert kinds(d.observe(T0, margin_ratio=float("inf"))) == ["margin_amber", "margin_red"]


@given(st.lists(st.floats(0, 2), max_size=60))
def test_between_two_alerts_of_a_level_the_ratio_went_below_its_rearm_level(ratios):
    amber, red, rearm = 0.5, 0.8, 0.9
    d = AlertDetector(amber, red, rearm_fraction=rearm)
    for kind, level in (("margin_amber", amber), ("margin_red", red)):
        d = AlertDetector(amber, red, rearm_fraction=rearm)
        last_alert = None
        for i, r in enumerate(ratios):
            fired = kind in kinds(d.observe(T0, margin_ratio=r))
            if fired:
                assert r >= level
                if last_alert is not None:
                    assert min(ratios[last_alert + 1:i]) < level * rearm
                last_alert = i
            elif r >= level:  # not fired while at or above: an earlier alert holds
                assert last_alert is not None


def test_trading_state_changes_alert_with_the_reason_and_halted_is_an_error():
    d = AlertDetector(0.5, 0.8)
    assert d.observe(T0, trading_state="active") == []  # the starting point
    assert d.observe(T0, trading_state="active") == []
    (a,) = d.observe(T0 + 60_000, trading_state="reducing", state_reason="kill switch")
    assert (a.kind, a.severity) == ("trading_state", "warning")
    assert a.text == "trading state REDUCING (was ACTIVE): kill switch at 2026-11-23 08:01:00 UTC"
    (h,) = d.observe(T0, trading_state="halted", state_reason="halted by the trader")
    assert h.severity == "error" and "HALTED (was REDUCING)" in h.text


def test_a_breaker_alerts_when_it_trips_not_while_its_figures_move():
    d = AlertDetector(0.5, 0.8)
    (a,) = d.observe(T0, breakers=["vol spike 2.4x (12 vs 96 bars)"])
    assert a.kind == "breaker" and "vol spike 2.4x" in a.text
    assert d.observe(T0, breakers=["vol spike 2.9x (12 vs 96 bars)"]) == []
    out = d.observe(T0, breakers=["vol spike 3.0x (12 vs 96 bars)", "stale data 12.0s > 10s"])
    assert [a.key for a in out] == ["breaker:stale data"]
    assert d.observe(T0, breakers=[]) == []  # cleared: re-armed
    assert kinds(d.observe(T0, breakers=["stale data: no timestamp"])) == ["breaker"]


def _option() -> Instrument:
    return Instrument(OPTION, "demo", "option", "BTC", "USD", "BTC", False, 1.0, 0.1, 0.0005,
                      0.1, strike=100_000.0, expiry_ms=T0, option_type="call", underlying="BTC")


def _perp() -> Instrument:
    return Instrument("BTC/USDT:USDT", "demo", "perp", "BTC", "USDT", "USDT", True, 0.001,
                      0.001, 0.1, 0.001)


def test_liquidation_and_expiry_come_from_what_desk_sync_journals(tmp_path):
    """The desk's own journaling of the account's events (cockpit.desk_sync) is what
    the detector reads: a liquidation fill and an option settled at expiry."""
    journal = Journal(tmp_path / "j.sqlite")
    fills = (Fill("f1", "o1", "BTC/USDT:USDT", "sell", 2.0, 88_123.5, 0.5, "USDT", T0 + 5_000,
                  liquidation=True),
             Fill("f2", "o2", OPTION, "sell", 1.0, 0.0, 0.0, "BTC", T0 + 10_000))
    snap = Snapshot(T0 + 10_000, 1, "demo",
                    instruments={OPTION: _option(), "BTC/USDT:USDT": _perp()},
                    account=Account("demo", T0 + 10_000, fills=fills))
    lines = journal_account_events(journal, SimpleNamespace(), snap)
    d = AlertDetector(0.5, 0.8)
    # what the event log receives from the desk: ("fill", text) lines
    from_log = [d.entry(kind, text, f.ts_ms) for (kind, text), f in zip(lines, fills, strict=True)]
    # and what the journal holds, by kind
    from_journal = d.entries(journal.records(kinds=["liquidation", "expiry"]))
    journal.close()
    for alerts in (from_log, from_journal):
        liq, exp = alerts
        assert (liq.kind, liq.severity) == ("liquidation", "error")
        assert liq.text.startswith("position LIQUIDATED: sell 2 BTC/USDT perp @ 88,123.5")
        assert liq.text.endswith("at 2026-11-23 08:00:05 UTC")
        assert (exp.kind, exp.severity) == ("expiry", "warning")
        # the option is named as the panels name it (no "BTC/USD:" prefix)
        assert "BTC 25DEC 100k C" in exp.text and "BTC/USD:" not in exp.text
        assert exp.text.endswith("at 2026-11-23 08:00:10 UTC")


def test_an_ordinary_fill_or_funding_line_is_no_alert():
    d = AlertDetector(0.5, 0.8)
    assert d.entry("fill", "buy 1 BTC/USDT:USDT @ 90,000 fee 0.045 USDT", T0) is None
    assert d.entry("funding", "funding BTC/USDT:USDT at ...", T0) is None
    assert d.entry("execution", "execution started: twap buy 3 BTC/USDT:USDT", T0) is None


def test_an_execution_ending_alerts_from_its_journal_line_or_the_desks_call():
    d = AlertDetector(0.5, 0.8)
    done = d.entry("execution", f"execution done: twap buy 3/3 {OPTION}, avg 0.0235 — done", T0)
    gave = d.entry("execution", "execution given up: passive sell 1/2 BTC/USDT:USDT — given up: "
                   "timeout", T0)
    assert (done.severity, gave.severity) == ("warning", "error")
    assert "BTC/USD:" not in done.text
    a = execution_ended(OPTION, "given up", "1 not filled (the book ran out)", T0,
                        execution_id="e1")
    assert (a.kind, a.severity) == ("execution", "error")
    assert a.text == ("execution given up: BTC 25DEC 100k C — 1 not filled (the book ran "
                      "out) at 2026-11-23 08:00:00 UTC")


def test_the_payload_is_the_alert_only_and_passes_the_secret_redaction():
    from cockpit.keys import install_redaction

    install_redaction(["sk-live-abcdef123456"])
    a = execution_ended("BTC/USDT:USDT", "done", "note sk-live-abcdef123456", T0)
    p = a.payload()
    assert set(p) == {"source", "kind", "severity", "text", "time", "ts_ms"}
    assert "sk-live-abcdef123456" not in repr(p)
    assert p["time"] == "2026-11-23 08:00:00 UTC"


# -- [alerts] config ---------------------------------------------------------------------
def _load(tmp_path, text):
    p = tmp_path / "config.toml"
    p.write_text(text)
    return load_config(p)


def test_alerts_config_defaults_and_values_reach_the_poster(tmp_path):
    from cockpit.alerts_webhook import WebhookPoster

    assert Config().alerts.webhook_url == "" and "margin_red" in Config().alerts.events
    cfg = _load(tmp_path, '[alerts]\nwebhook_url = "https://hooks.example.com/T0/tok"\n'
                'events = ["margin_red", "liquidation"]\ntimeout_s = 2.5\n'
                'max_per_minute = 3\ndedup_window_s = 42\n')
    p = WebhookPoster.from_config(cfg.alerts)
    assert (p.url, p.timeout_s, p.max_per_minute, p.dedup_window_s) == (
        "https://hooks.example.com/T0/tok", 2.5, 3, 42.0)
    assert cfg.alerts.events == ("margin_red", "liquidation")


@pytest.mark.parametrize("body, must", [
    ('events = ["margin_red", "lunch"]',
     ["'alerts.events'", "unknown event 'lunch'", "margin_amber", "liquidation", "expiry"]),
    ("timeout_s = 0", ["'alerts.timeout_s'"]),
    ("max_per_minute = 0", ["'alerts.max_per_minute'"]),
    ('webhook_url = "ftp://hooks.example.com/secret-token-xyz"',
     ["'alerts.webhook_url'", "https://"]),
    ("colour = 1", ["unknown key 'alerts.colour'"]),
])
def test_a_bad_alerts_value_is_one_line_naming_the_key(tmp_path, body, must):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, f"[alerts]\n{body}\n")
    line = str(e.value)
    assert "\n" not in line
    for part in must:
        assert part in line
    assert "secret-token-xyz" not in line  # the URL may hold a token: never echoed


def test_the_readme_example_names_every_alert_kind_and_loads(tmp_path):
    import re
    from pathlib import Path

    from cockpit.alerts import ALERT_KINDS

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    cfg = _load(tmp_path, re.search(r"```toml\n(.*?)```", readme, re.S).group(1))
    assert cfg.alerts.events == ALERT_KINDS and cfg.alerts.webhook_url == ""
    section = readme.split("## Alerts", 1)[1].split("\n## ", 1)[0]
    for kind in ALERT_KINDS:
        assert f"`{kind}`" in section
