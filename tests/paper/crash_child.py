"""Child process for the crash test: trades in a loop against a file-backed paper
account and prints, one flushed line each, every order it got back from the broker
("ACK order_id fill_id...") and every fill of a resting limit that a later book
produced ("FILL fill_id"), until the parent kills it with SIGKILL.

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
    seen = {f.id for f in broker.ledger.storage.fills()}
    print("READY", flush=True)
    sym = BTC_PERP.symbol
    for i in range(1_000_000):
        mid = 60_000.0 + rng.randint(-500, 500)
        broker.on_ticker(ticker(sym, mid, T0 + i))
        # a new book may fill limits that rested since earlier steps
        broker.on_book(book(sym, [[mid - 0.5, 0.7], [mid - 1.0, 50.0]],
                            [[mid + 0.5, 0.7], [mid + 1.0, 50.0]], T0 + i))
        for f in broker.account().fills:
            if f.id not in seen:
                seen.add(f.id)
                print("FILL", f.id, flush=True)
        side = rng.choice(("buy", "sell"))
        amount = round(rng.uniform(0.002, 2.0), 3)
        if i % 3 == 0:  # a limit at mid rests until a later book crosses it
            req = OrderRequest(sym, side, "limit", amount, mid, client_order_id=f"c{seed}-{i}")
        else:
            req = OrderRequest(sym, side, "market", amount, client_order_id=f"c{seed}-{i}")
        order = broker.place_order(req)
        fills = [f.id for f in broker.account().fills if f.order_id == order.id]
        seen.update(fills)
        print("ACK", order.id, *fills, flush=True)


if __name__ == "__main__":
    main()
