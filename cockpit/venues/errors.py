"""A venue's refusal as one sentence a trader reads: "OKX refused: insufficient
margin (51008)". The raw reply (ccxt puts the venue's JSON body in the exception
text) goes to the log only.

Each venue nests its code and message differently:

* OKX v5: ``{"code": "1", "msg": "Operation failed.", "data": [{"sCode": "51008",
  "sMsg": "Order failed. Insufficient USDT margin in account"}]}``: the per-order
  ``sCode``/``sMsg`` is the real reason, the outer one a summary;
* Bybit v5: ``{"retCode": 110007, "retMsg": "..."}``;
* Binance USD-M: ``{"code": -2019, "msg": "Margin is insufficient."}``;
* Deribit JSON-RPC: ``{"error": {"code": 10009, "message": "not_enough_funds"}}``.

References: https://www.okx.com/docs-v5/en/#error-code ,
https://bybit-exchange.github.io/docs/v5/error ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code ,
https://docs.deribit.com/#rpc-error-codes
"""

from __future__ import annotations

import json
import logging
import re

__all__ = ["VenueRefused", "refusal_sentence", "venue_code_and_message"]

log = logging.getLogger(__name__)

VENUE_NAMES = {"okx": "OKX", "bybit": "Bybit", "binanceusdm": "Binance USD-M",
               "deribit": "Deribit"}

# code -> the reason in a trader's words (the venue's own text is used otherwise)
REASONS: dict[str, dict[str, str]] = {
    "okx": {
        "51008": "insufficient margin", "51119": "insufficient margin",
        "51131": "insufficient balance", "51004": "the amount exceeds your position tier",
        "51020": "the amount is below the minimum", "51121": "the amount is not a whole lot",
        "51006": "the price is outside the venue's limit", "51016": "duplicate client order id",
        "51400": "the order is already filled, cancelled or gone",
        "51603": "no such order", "50011": "rate limited: too many requests",
        "50113": "invalid signature: check the API key and secret",
        "50013": "the venue is busy: retry shortly", "51169": "no position to reduce",
    },
    "bybit": {
        "110007": "insufficient available balance", "110004": "insufficient wallet balance",
        "110017": "reduce-only would not reduce the position", "110072": "duplicate order id",
        "10006": "rate limited: too many requests", "110001": "no such order",
    },
    "binanceusdm": {
        "-2019": "insufficient margin", "-2022": "reduce-only order rejected",
        "-4164": "the order's notional is below the minimum", "-1003": "rate limited",
        "-2011": "no such order", "-4116": "duplicate client order id",
    },
    "deribit": {
        "10009": "insufficient funds", "10004": "no such order", "10028": "rate limited",
        "10041": "reduce-only would not reduce the position",
    },
}


class VenueRefused(Exception):
    """A venue said no; ``str()`` is the one sentence to show, ``code`` its code."""

    def __init__(self, sentence: str, code: str = "") -> None:
        super().__init__(sentence)
        self.code = code


def _json_in(text: str) -> dict | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        doc = json.loads(text[start:])
    except ValueError:
        try:  # trailing text after the JSON body
            doc, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


def venue_code_and_message(text: str) -> tuple[str, str]:
    """The venue's own (code, message) out of a ccxt exception text; ("", "") if none."""
    doc = _json_in(text)
    if doc is None:
        m = re.search(r"\b(-?\d{4,6})\b", text)
        return (m.group(1) if m else ""), ""
    error = doc.get("error")
    if isinstance(error, dict):  # Deribit
        return str(error.get("code", "")), str(error.get("message", ""))
    for item in doc.get("data") or []:  # OKX: the per-order code is the real reason
        if isinstance(item, dict) and str(item.get("sCode", "0")) not in ("0", ""):
            return str(item["sCode"]), str(item.get("sMsg", ""))
    if "retCode" in doc:  # Bybit
        return str(doc["retCode"]), str(doc.get("retMsg", ""))
    return str(doc.get("code", "")), str(doc.get("msg", ""))


def _clean(message: str) -> str:
    text = " ".join(message.split()).rstrip(".")
    text = re.sub(r"^(Order failed|Operation failed)\.?\s*", "", text, flags=re.I)
    text = text.replace("_", " ")
    return (text[:1].lower() + text[1:])[:120]


def refusal_sentence(venue: str, exc: BaseException) -> VenueRefused:
    """``exc`` (a ccxt ``ExchangeError``) as one sentence; the raw text is logged."""
    from cockpit.keys import redact

    raw = redact(str(exc))
    log.warning("%s refused: %s", venue, raw)
    code, message = venue_code_and_message(raw)
    reason = REASONS.get(venue, {}).get(code) or _clean(message) or type(exc).__name__
    name = VENUE_NAMES.get(venue, venue)
    return VenueRefused(f"{name} refused: {reason}" + (f" ({code})" if code else ""), code)
