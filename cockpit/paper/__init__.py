"""Paper trading: simulated fills, a cross-margined USD account, SQLite persistence.

``PaperBroker`` is the one paper broker for every market feed; ``OrderRejected``
is the ``ValueError`` it raises for an order it refuses (the message names the
field and the fix).
"""

from cockpit.paper.broker import PaperBroker
from cockpit.paper.matching import OrderRejected

__all__ = ["OrderRejected", "PaperBroker"]
