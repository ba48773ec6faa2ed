"""Paper-account arithmetic: fees, contract PnL, average entry, funding and margin.

The maths lives in ``sizing.contracts`` (the one book of contract maths the
policy, the account solver and the view builders use too); this module names
it for the paper broker. Conventions are that module's: contracts, settle
currency, futures-style booking of options (equity is the same as with
premium-style booking; a long option's initial margin is its premium at mark,
so "available" equals the cash a venue would show).
"""

from __future__ import annotations

from sizing.contracts import (
    DEFAULT_TIERS,
    OPTION_FEE_CAP,
    apply_trade,
    contract_pnl,
    fill_fee,
    funding_payment,
    is_inverse_future,
    option_margin,
    position_margin,
)

__all__ = [
    "DEFAULT_TIERS",
    "OPTION_FEE_CAP",
    "apply_trade",
    "contract_pnl",
    "fill_fee",
    "funding_payment",
    "is_inverse_future",
    "option_margin",
    "position_margin",
]
