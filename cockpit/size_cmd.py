"""``cockpit size``: run the sizing policy once, headless, and print the decisions.

Usage::

    cockpit size [--seed N] [--state PATH] [--input FILE.json] [--config PATH] [--json]

Without ``--input`` it sizes the demo account on the built-in market (seed
``--seed``, default the config's ``[demo] seed``), or the paper account stored
at ``--state PATH``, after fitting a GARCH forecast to each back-filled bar
series. ``--json`` prints machine-readable decisions (with their planned
market orders) instead of a table, and beside them the ``account`` object
(balances, positions with contract terms and Greeks, liquidation levels by full
revaluation, portfolio VaR/CVaR, the stress grid; see
``cockpit.views.risk.account_report``). Settings come from the config's ``[sizing]``.
Bad input prints ONE line on stderr naming the field, and exits 2.

Input file schema (``--input``; example: ``tests/data/size_input.json``)
------------------------------------------------------------------------
::

    {
      "account": {
        "equity_usd": 250000,             # required, USD
        "peak_equity_usd": 260000,        # optional, default equity_usd
        "maintenance_margin_usd": 9000    # optional, default 0: the whole account's MM
      },
      "settings": {"target_vol": 0.5, ...},   # optional, any [sizing] key
      "instruments": [                    # required, one per position (or hedge perp)
        {
          "symbol": "BTC/USDT:USDT",      # required
          "kind": "perp",                 # required: perp | future | option
          "contracts": 4.0,               # required, signed (+ long, - short)
          "mark_price": 90000,            # required, > 0: USD, or coin for coin options
          "underlying_price": 90000,      # USD, > 0; required for options (default mark)
          "underlying": "BTC",            # default: the symbol's base
          "venue": "binanceusdm",
          "linear": true,                 # false: inverse perps and coin-settled options
          "contract_size": 1, "amount_step": 0.001, "price_step": 0.1,
          "min_amount": 0.001, "min_cost": 5,
          "closes": [89000.5, ...],       # hourly closes, oldest first (GARCH is fitted)
          "forecast_vol": 0.62,           # annual fraction; instead of (or over) closes
          "implied_vol": 0.55, "strike": 100000, "years": 0.1, "is_call": true,  # options
          "bids": [[89990, 1.5], ...], "asks": [[90010, 1.2], ...],  # [price, contracts]
          "adv_contracts": 12000,         # average daily volume in contracts
          "data_age_s": 0.5,
          "margin_tiers": [{"max_notional": 5e4, "initial_rate": 0.008,
                            "maintenance_rate": 0.004, "maintenance_amount": 0}],
          "maintenance_margin_usd": 1500, # this position's MM as the venue reports it
          "drift_annual": 0.1             # expected return for Kelly (default: settings)
        }
      ]
    }

Every instrument needs ``closes`` (at least 2) or ``forecast_vol``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

__all__ = ["InputError", "load_input", "run"]


class InputError(ValueError):
    """Bad input, phrased as the one line to show (field first)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise InputError(f"size: {message}; see cockpit size --help")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cockpit size", description="Run the sizing policy once and print "
                "each instrument's decision (current -> target, binding constraint, reason).")
    p.add_argument("--seed", type=int, default=None, help="demo market seed")
    p.add_argument("--state", type=Path, default=None, help="a paper account's SQLite file")
    p.add_argument("--input", type=Path, default=None, help="a JSON account description")
    p.add_argument("--config", type=Path, default=None, help="config TOML ([sizing] settings)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


# ------------------------------------------------------------------ input file


def _field(obj: dict, key: str, where: str, *, kind=float, default=..., positive=False,
           non_negative=False):
    name = f"{where}.{key}" if where else key
    if key not in obj or obj[key] is None:
        if default is ...:
            raise InputError(f"{name}: missing; add it (see cockpit size --help)")
        return default
    v = obj[key]
    if kind is str:
        if not isinstance(v, str) or not v:
            raise InputError(f"{name}: {v!r} is not a non-empty string")
        return v
    if kind is bool:
        if not isinstance(v, bool):
            raise InputError(f"{name}: {v!r} is not true/false")
        return v
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InputError(f"{name}: {v!r} is not a number")
    v = float(v)
    if not math.isfinite(v):
        raise InputError(f"{name}: {v} is not a finite number; pass a real value")
    if positive and v <= 0:
        raise InputError(f"{name}: {v:g} must be > 0")
    if non_negative and v < 0:
        raise InputError(f"{name}: {v:g} must be >= 0")
    return v


def _array(obj: dict, key: str, where: str, shape2: bool) -> np.ndarray | None:
    if key not in obj:
        return None
    name = f"{where}.{key}"
    try:
        a = np.asarray(obj[key], dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: not a list of numbers") from None
    if shape2 and a.size == 0:
        return np.empty((0, 2))
    if (shape2 and (a.ndim != 2 or a.shape[1] != 2)) or (not shape2 and a.ndim != 1):
        raise InputError(f"{name}: expected a list of " + ("[price, amount] pairs" if shape2
                                                           else "numbers"))
    if not np.isfinite(a).all():
        raise InputError(f"{name}: contains NaN or inf; pass real values")
    if (a <= 0).any() if not shape2 else (a[:, 0] <= 0).any() or (a[:, 1] < 0).any():
        raise InputError(f"{name}: prices must be > 0 (and amounts >= 0)")
    return a


def _instrument(raw: dict, where: str):
    from sizing.margin import MarginTier
    from sizing.policy import InstrumentState

    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    symbol = _field(raw, "symbol", where, kind=str)
    kind = _field(raw, "kind", where, kind=str)
    if kind not in ("perp", "future", "option"):
        raise InputError(f"{where}.kind: {kind!r}; use perp, future or option")
    mark = _field(raw, "mark_price", where, positive=True)
    option = kind == "option"
    closes = _array(raw, "closes", where, shape2=False)
    if closes is not None and len(closes) < 2:
        raise InputError(f"{where}.closes: need at least 2 hourly closes")
    forecast = _field(raw, "forecast_vol", where, positive=True, default=None)
    tiers = []
    for j, t in enumerate(raw.get("margin_tiers", []) or []):
        w = f"{where}.margin_tiers[{j}]"
        if not isinstance(t, dict):
            raise InputError(f"{w}: expected an object")
        tiers.append(MarginTier(
            _field(t, "max_notional", w, positive=True),
            _field(t, "initial_rate", w, non_negative=True),
            _field(t, "maintenance_rate", w, non_negative=True),
            _field(t, "maintenance_amount", w, default=0.0, non_negative=True)))
    empty = np.empty((0, 2))
    extra = {}
    if option:
        extra = dict(implied_vol=_field(raw, "implied_vol", where, positive=True),
                     strike=_field(raw, "strike", where, positive=True),
                     years=_field(raw, "years", where, positive=True),
                     is_call=_field(raw, "is_call", where, kind=bool))
    try:
        return InstrumentState(
            symbol=symbol, kind=kind, contracts=_field(raw, "contracts", where),
            mark_price=mark,
            underlying_price=_field(raw, "underlying_price", where, positive=True,
                                    default=... if option else mark),
            underlying=_field(raw, "underlying", where, kind=str,
                              default=symbol.split("/")[0]),
            venue=_field(raw, "venue", where, kind=str, default=""),
            linear=_field(raw, "linear", where, kind=bool, default=True),
            contract_size=_field(raw, "contract_size", where, positive=True, default=1.0),
            amount_step=_field(raw, "amount_step", where, positive=True, default=0.001),
            price_step=_field(raw, "price_step", where, positive=True, default=0.01),
            min_amount=_field(raw, "min_amount", where, non_negative=True, default=0.0),
            min_cost=_field(raw, "min_cost", where, non_negative=True, default=0.0),
            log_returns=np.diff(np.log(closes)) if closes is not None else np.empty(0),
            forecast_vol=forecast, forecast_model="given" if forecast is not None else "",
            bids=_array(raw, "bids", where, shape2=True) if "bids" in raw else empty,
            asks=_array(raw, "asks", where, shape2=True) if "asks" in raw else empty,
            adv_contracts=_field(raw, "adv_contracts", where, non_negative=True, default=None),
            data_age_s=_field(raw, "data_age_s", where, non_negative=True, default=0.0),
            margin_tiers=tuple(tiers),
            maintenance_margin_usd=_field(raw, "maintenance_margin_usd", where,
                                          non_negative=True, default=None),
            drift_annual=_field(raw, "drift_annual", where, default=None),
            **extra,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None


def load_input(path: Path):
    """(PortfolioState, settings overrides) from a JSON file; InputError on bad input."""
    from sizing.policy import PortfolioState

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"input {path}: {exc.strerror or exc}; check the path") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"input {path}: not valid JSON ({exc.msg} at line {exc.lineno}); "
                         "fix that line") from None
    if not isinstance(raw, dict):
        raise InputError(f"input {path}: expected a JSON object with account and instruments")
    acct = raw.get("account")
    if not isinstance(acct, dict):
        raise InputError("account: missing; add {\"equity_usd\": ...}")
    equity = _field(acct, "equity_usd", "account", positive=True)
    insts = raw.get("instruments")
    if not isinstance(insts, list) or not insts:
        raise InputError("instruments: missing or empty; add at least one position")
    parsed = [_instrument(r, f"instruments[{i}]") for i, r in enumerate(insts)]
    returns = {}
    for inst in parsed:
        if len(inst.log_returns) > len(returns.get(inst.group, ())):
            returns[inst.group] = inst.log_returns
    for i, inst in enumerate(parsed):
        if inst.forecast_vol is None and len(inst.log_returns) == 0:
            if inst.group not in returns:
                raise InputError(f"instruments[{i}].closes: need at least 2 hourly closes or a "
                                 f"forecast_vol (here or on another {inst.group} instrument)")
            # options and hedge perps share their underlying's history
            parsed[i] = dataclasses.replace(inst, log_returns=returns[inst.group])
    state = PortfolioState(
        equity_usd=equity,
        peak_equity_usd=_field(acct, "peak_equity_usd", "account", positive=True,
                               default=equity),
        maintenance_margin_usd=_field(acct, "maintenance_margin_usd", "account",
                                      non_negative=True, default=0.0),
        instruments=tuple(parsed),
    )
    overrides = raw.get("settings") or {}
    if not isinstance(overrides, dict):
        raise InputError("settings: expected an object of [sizing] keys")
    return state, overrides


# ------------------------------------------------------------------ output


def _plain(x):
    """JSON-safe: inf/NaN become null, numpy scalars plain floats."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, bool | str) or x is None:
        return x
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        f = float(x)
        return f if math.isfinite(f) else None
    return str(x)


def _orders(decision, state):
    from sizing.orders import plan_orders

    inst = next((i for i in state.instruments if i.symbol == decision.symbol), None)
    if inst is None or decision.kind == "hold":
        return ()
    try:
        return plan_orders(decision, inst, "market")
    except ValueError:
        return ()


def print_json(decisions, state, out=None, account=None) -> None:
    """One JSON document: ``{"equity_usd": ..., "decisions": [...], "account": {...}}``;
    inf/NaN as null. ``account`` is ``cockpit.views.risk.account_report`` (None with
    ``--input``, which describes no balances)."""
    rows = []
    for d in decisions:
        rows.append({
            "symbol": d.symbol, "venue": d.venue, "kind": d.kind, "current": d.current,
            "target": d.target, "order": d.order, "binding_constraint": d.binding_constraint,
            "reason": d.reason, "reduces_risk": d.reduces_risk, "forced": d.forced,
            "breakers": list(d.breakers), "caps": dict(d.caps), "inputs": dict(d.inputs),
            "after": None if d.after is None else {
                "margin_ratio": d.after.margin_ratio,
                "liquidation_sigmas": d.after.liquidation_sigmas,
                "var_usd": d.after.var_usd},
            "orders": [{"side": o.side, "type": o.type, "amount": o.amount, "price": o.price,
                        "reduce_only": o.reduce_only} for o in _orders(d, state)],
        })
    doc = {"equity_usd": state.equity_usd, "peak_equity_usd": state.peak_equity_usd,
           "maintenance_margin_usd": state.maintenance_margin_usd, "decisions": rows,
           "account": account}
    print(json.dumps(_plain(doc), indent=2, allow_nan=False), file=out or sys.stdout)


def print_table(decisions, state, settings, out=None) -> None:
    """A rich table: symbol, current -> target, order, binding constraint, reason."""
    from rich.console import Console
    from rich.table import Table

    from sizing.policy_text import amount, usd

    ratio = state.maintenance_margin_usd / state.equity_usd if state.equity_usd > 0 else math.inf
    table = Table(title=f"Sizing decisions: equity {usd(state.equity_usd)}, margin ratio "
                        f"{ratio:.1%}, target vol {settings.target_vol:.0%}", title_justify="left")
    table.add_column("symbol", no_wrap=True)
    table.add_column("kind")
    table.add_column("current → target", justify="right", no_wrap=True)
    table.add_column("order", justify="right")
    table.add_column("binding")
    table.add_column("reason")
    steps = {i.symbol: i.amount_step for i in state.instruments}
    for d in decisions:
        step = steps.get(d.symbol)
        style = "bold" if d.forced else None
        table.add_row(d.symbol, d.kind, f"{amount(d.current, step)} → {amount(d.target, step)}",
                      amount(d.order, step) if d.order else "", d.binding_constraint, d.reason,
                      style=style)
    import shutil

    width = max(shutil.get_terminal_size((160, 40)).columns, 120)
    Console(file=out or sys.stdout, width=width).print(table)


# ------------------------------------------------------------------ running


def _settings(config_path: Path | None, overrides: dict):
    from cockpit.config import ConfigError, load_config
    from sizing.policy import PolicySettings

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    fields = PolicySettings.__dataclass_fields__
    defaults = PolicySettings()
    values = {k: v for k, v in config.sizing.model_dump().items() if k in fields}
    for key, value in overrides.items():
        if key not in fields:
            raise InputError(f"settings.{key}: unknown key; see the [sizing] config keys")
        default = getattr(defaults, key)
        if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, int | float) and not isinstance(value, int | float)) or (
                isinstance(default, str) and not isinstance(value, str)):
            raise InputError(f"settings.{key}: {value!r} has the wrong type "
                             f"(like {default!r} expected)")
        values[key] = value
    try:
        values["drawdown_tiers"] = tuple((float(dd), float(scale))
                                         for dd, scale in values.get("drawdown_tiers", ()))
    except (TypeError, ValueError):
        raise InputError("settings.drawdown_tiers: expected [[drawdown, scale], ...]") from None
    try:
        return PolicySettings(**values), config
    except (TypeError, ValueError) as exc:
        raise InputError(f"settings.{exc}") from None


def _demo_state(args, config, settings):
    from cockpit.engine import EngineRunner
    from cockpit.engine_input import state_from_snapshot
    from cockpit.paper.storage import account_file_problem
    from cockpit.runtime import RuntimeError_, build_demo

    if args.state is not None and not args.state.exists():
        raise InputError(f"state {args.state}: no such file; run the cockpit with --state first")
    if args.state is not None and (problem := account_file_problem(args.state)):
        raise InputError(problem)
    from cockpit.cli import demo_flag_problem

    if problem := demo_flag_problem(args, config):  # --seed within [demo] limits
        raise InputError(problem)
    try:
        rt = build_demo(config, seed=args.seed, state_path=args.state)
    except RuntimeError_ as exc:  # e.g. the account is held by a running cockpit
        raise InputError(str(exc)) from None
    snapshot = rt.store.snapshot()
    if snapshot.account is None:
        from dataclasses import replace

        snapshot = replace(snapshot, account=rt.broker.account())
    forecasts, _ = EngineRunner(settings).forecasts(snapshot)
    return state_from_snapshot(snapshot, forecasts=forecasts), forecasts, snapshot


def run(argv: list[str]) -> int:
    """Entry point for ``cockpit size ...``; returns the exit code (2 on bad input)."""
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        snapshot = None
        if args.input is not None:
            state, overrides = load_input(args.input)
            settings, _ = _settings(args.config, overrides)
            from sizing.policy import fit_forecasts

            forecasts = fit_forecasts(state, model=settings.vol_model)
        else:
            settings, config = _settings(args.config, {})
            state, forecasts, snapshot = _demo_state(args, config, settings)
        from sizing.policy import decide

        decisions = decide(state, settings, forecasts=forecasts)
    except InputError as exc:
        print(f"cockpit size: {exc}", file=sys.stderr)
        return 2
    if args.json:
        account = None
        if snapshot is not None:
            from cockpit.views.risk import account_report

            account = account_report(snapshot, forecasts, settings.var_alpha)
        print_json(decisions, state, account=account)
    else:
        print_table(decisions, state, settings)
    return 0
