"""Start-up stays light: the demo reaches its first full screen without importing
ccxt (about 1 s), arch (about 1.5 s), httpx (alerts webhook only), scipy's special,
stats and optimize packages or pandas; they load where they are used."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from cockpit.app import CockpitApp
    from cockpit.config import Config
    from cockpit.runtime import build_demo

    async def main():
        app = CockpitApp(build_demo(Config(), state_path=None), start_feed=False,
                         remember_theme=False)
        app.kick_engine = lambda why: None  # the engine (and arch) load after the first screen
        async with app.run_test(size=(160, 48)) as pilot:
            while app.first_paint_s is None:
                await pilot.pause()
            loaded = sorted({m.split(".")[0] for m in sys.modules} & {"ccxt", "arch", "aiohttp", "httpx"})
            print("LOADED", ",".join(loaded) or "-")
            heavy = sorted({"scipy.special", "scipy.stats", "scipy.optimize", "pandas"} & set(sys.modules))
            print("SCIPY", ",".join(heavy) or "-")

    asyncio.run(main())
    """
)


def test_demo_first_screen_imports_neither_ccxt_nor_arch(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("LOADED"))
    assert line == "LOADED -", line
    # scipy.special's own __init__ (~0.12 s), scipy.stats and scipy.optimize (~0.5 s)
    # and pandas are not needed for the first screen either: sizing.special loads the
    # compiled normal-distribution ufuncs alone
    heavy = next(ln for ln in out.stdout.splitlines() if ln.startswith("SCIPY"))
    assert heavy == "SCIPY -", heavy
