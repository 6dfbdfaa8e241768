#!/usr/bin/env bash
# System packages the test suite needs beyond npm: Debian's Chromium for the
# browser tests (playwright-core drives it; it never downloads a browser).
# Idempotent: does nothing when Chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install-system-deps: chromium is missing and this is not root; install Debian's 'chromium' package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "install-system-deps: installed $(chromium --version)"
