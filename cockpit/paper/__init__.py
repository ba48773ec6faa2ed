"""Paper trading: simulated fills, a cross-margined USD account, SQLite persistence.

``PaperBroker`` is the one paper broker for every market feed; ``OrderRejected``
is the ``ValueError`` it raises for an order it refuses (the message names the
field and the fix).

Modules, by concept:

* ``broker``     the ``Broker`` implementation: market-data handlers, orders, API
* ``matching``   precision rounding, order checks, book walking, limit crossing
* ``market``     the last good ticker/book per symbol, coin prices, data clock
* ``accounting`` fees, contract PnL, average entry, funding, per-position margin
* ``valuation``  positions at mark, account equity and margin, liquidation prices
* ``events``     funding times, option expiry, liquidation
* ``ledger``     balances, positions, orders, fills: every change one transaction
* ``storage``    the SQLite tables (WAL, ``synchronous=FULL``, UNIQUE fill ids)
"""

from cockpit.paper.broker import PaperBroker
from cockpit.paper.matching import OrderRejected

__all__ = ["OrderRejected", "PaperBroker"]
