#!/bin/sh
# The browser test of `cockpit serve` (tests/test_serve_browser.py) needs a Chromium.
# Idempotent: nothing to do when one is on the PATH; installs Debian's package when apt
# is usable (as root); otherwise says so, and that test is skipped with its reason.
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$b" >/dev/null 2>&1 && exit 0
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing chromium for the browser test (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q chromium; } >/tmp/cockpit-chromium.log 2>&1 \
        && exit 0
    echo "could not install chromium (see /tmp/cockpit-chromium.log): the browser test will skip"
else
    echo "no chromium and no apt as root here: the browser test will skip"
fi
exit 0
