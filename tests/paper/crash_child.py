"""Child process for the crash test: trades in a loop against a file-backed paper
account and prints every acknowledged order with its fill ids, one line each,
flushed, until the parent kills it with SIGKILL.

    python -m tests.paper.crash_child STATE_PATH SEED
"""

from __future__ import annotations

import random
import sys

from cockpit.model import OrderRequest
from cockpit.paper import PaperBroker
from tests.paper.specs import BTC_PERP, T0, book, ticker


def main() -> None:
    path, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    broker = PaperBroker([BTC_PERP], state_path=path)
    broker.seed({"USDT": 1_000_000.0}, [])
    print("READY", flush=True)
    for i in range(1_000_000):
        mid = 60_000.0 + rng.randint(-500, 500)
        broker.on_ticker(ticker(BTC_PERP.symbol, mid, T0 + i))
        broker.on_book(book(BTC_PERP.symbol, [[mid - 0.5, 0.7], [mid - 1.0, 50.0]],
                            [[mid + 0.5, 0.7], [mid + 1.0, 50.0]], T0 + i))
        side = rng.choice(("buy", "sell"))
        amount = round(rng.uniform(0.002, 2.0), 3)
        order = broker.place_order(OrderRequest(BTC_PERP.symbol, side, "market", amount,
                                                client_order_id=f"crash-{seed}-{i}"))
        fills = [f.id for f in broker.account().fills if f.order_id == order.id]
        print("ACK", order.id, *fills, flush=True)


if __name__ == "__main__":
    main()
