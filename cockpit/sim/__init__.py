"""The built-in market's parts: instruments, the price/vol process, books, the IV surface.

``cockpit.venues.sim.SimMarket`` assembles them; nothing here imports asyncio,
ccxt or arch, so the demo starts light.
"""
