"""The venue's own account-level initial and maintenance margin, in USD.

A cross account's margin is the venue's figure, not the sum of its positions':
it includes the margin held for open orders and the venue's own offsets. Each
venue reports it in its balance reply (ccxt keeps the raw reply in ``info``):

- OKX ``GET /api/v5/account/balance``: ``data[0].imr`` / ``mmr`` (USD), documented
  at https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-balance
- Binance USD-M ``GET /fapi/v3/account``: ``totalInitialMargin`` /
  ``totalMaintMargin`` (USDT in single-asset mode, USD in multi-assets mode; the
  IM includes ``totalOpenOrderInitialMargin``)
- Bybit ``GET /v5/account/wallet-balance`` (UNIFIED): ``result.list[0]``
  ``totalInitialMargin`` / ``totalMaintenanceMargin`` (USD)
- Deribit ``private/get_account_summaries``: per currency ``initial_margin`` /
  ``maintenance_margin`` in that coin, converted at the coin's USD price.

``None`` where the reply has no such figure (an empty string, a missing key).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["account_margin_usd"]


def _f(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x >= 0 else None


def _pair(im: Any, mm: Any) -> tuple[float, float] | None:
    a, b = _f(im), _f(mm)
    return None if a is None or b is None else (a, b)


def account_margin_usd(venue: str, info: Any,
                       usd_prices: Mapping[str, float]) -> tuple[float, float] | None:
    """(initial, maintenance) margin of the whole account in USD, or None."""
    if not isinstance(info, dict):
        return None
    if venue == "okx":
        data = info.get("data") or [{}]
        return _pair(data[0].get("imr"), data[0].get("mmr")) if isinstance(data[0], dict) \
            else None
    if venue == "binanceusdm":
        return _pair(info.get("totalInitialMargin"), info.get("totalMaintMargin"))
    if venue == "bybit":
        rows = (info.get("result") or {}).get("list") or [{}]
        row = rows[0] if isinstance(rows[0], dict) else {}
        return _pair(row.get("totalInitialMargin"), row.get("totalMaintenanceMargin"))
    if venue == "deribit":
        result = info.get("result", info)
        summaries = result.get("summaries", [result]) if isinstance(result, dict) else []
        im = mm = 0.0
        for s in summaries:
            coin = str(s.get("currency", "")).upper()
            pair = _pair(s.get("initial_margin"), s.get("maintenance_margin"))
            if pair is None:
                return None
            if pair == (0.0, 0.0):
                continue
            price = usd_prices.get(coin, 1.0 if coin in ("USDC", "USDT") else math.nan)
            if not (math.isfinite(price) and price > 0):
                return None  # a coin we cannot price: no figure rather than a wrong one
            im, mm = im + pair[0] * price, mm + pair[1] * price
        return im, mm
    return None
