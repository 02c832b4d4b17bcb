#!/usr/bin/env bash
# The browser end-to-end test (tests/test_e2e_browser.py) needs Debian's Chromium and its driver.
# Idempotent: does nothing when both are installed. Runs as root, without stdin.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver </dev/null
/usr/bin/chromium --version
