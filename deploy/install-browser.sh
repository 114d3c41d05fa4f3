#!/bin/sh
# Debian's Chromium and ChromeDriver for the browser tests (tests/test_browser*.py), and
# poppler-utils (pdftotext, pdftoppm) for the report tests' checks of the PDF.
# Installs them only where it can: as root, with apt. Elsewhere it says why not and exits 0,
# and the browser tests skip with the same reason. No browser is ever downloaded by a test tool.
set -u
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v pdftotext >/dev/null 2>&1; then
    exit 0
fi
if [ "${MODBOT_BROWSER:-}" = "skip" ]; then
    echo "install-browser: MODBOT_BROWSER=skip: not installing Chromium; the browser tests will skip."
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "install-browser: not root: cannot install Chromium; the browser tests will skip."
    echo "  As root: apt-get install -y chromium chromium-driver"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: apt-get not found (not Debian or Ubuntu): the browser tests will skip."
    exit 0
fi
echo "install-browser: installing Debian's chromium and chromium-driver with apt (first run only)..."
if DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver poppler-utils >/dev/null; then
    echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium installed)"
else
    echo "install-browser: apt-get could not install chromium; the browser tests will skip."
fi
exit 0
