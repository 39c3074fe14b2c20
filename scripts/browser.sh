#!/usr/bin/env bash
# Headless Chromium for the browser tests (internal/app/browser_test.go).
# Installs the Debian package when it is missing, the same way
# scripts/services.sh installs PostgreSQL and Redis; a browser is never
# fetched any other way. Usage: scripts/browser.sh [path]
set -euo pipefail

say() { echo "browser: $*"; }

find_chromium() {
  local b
  for b in "${GC_CHROMIUM:-}" chromium chromium-browser; do
    [[ -n $b ]] && command -v "$b" 2>/dev/null && return 0
  done
  return 1
}

# Screenshots of Chinese pages need a Chinese font; tofu boxes test nothing.
have_cjk_font() { command -v fc-list >/dev/null && [[ -n $(fc-list :lang=zh 2>/dev/null) ]]; }

if bin=$(find_chromium) && have_cjk_font; then
  [[ ${1:-} == path ]] && echo "$bin"
  exit 0
fi
command -v apt-get >/dev/null || { echo "browser: chromium is missing and apt-get is not available; install the Debian/Ubuntu package 'chromium' or set GC_CHROMIUM" >&2; exit 1; }
sudo=""
[[ $(id -u) -eq 0 ]] || sudo=sudo
say "installing the Debian packages chromium and fonts-wqy-microhei (about a minute, once)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei fontconfig >/dev/null
bin=$(find_chromium) || { echo "browser: chromium still missing after apt-get install" >&2; exit 1; }
say "installed $($bin --version 2>/dev/null || echo "$bin")"
[[ ${1:-} == path ]] && echo "$bin"
exit 0
