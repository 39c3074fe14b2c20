#!/usr/bin/env bash
# Copies the browser libraries pinned in scripts/assets/package-lock.json into
# internal/web/static/vendor/, which go:embed puts into the binary. Skips the
# npm step when the copy is newer than the lock file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/scripts/assets
dst=$root/internal/web/static/vendor
stamp=$dst/.stamp

if [[ -f $stamp && $stamp -nt $src/package-lock.json ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "assets: npm is required (sudo apt-get install -y nodejs npm)"; exit 1; }
npm ci --prefix "$src" --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p "$dst/swagger-ui" "$dst/htmx" "$dst/echarts"
cp "$src/node_modules/swagger-ui-dist/swagger-ui-bundle.js" "$src/node_modules/swagger-ui-dist/swagger-ui.css" "$dst/swagger-ui/"
cp "$src/node_modules/htmx.org/dist/htmx.min.js" "$dst/htmx/"
cp "$src/node_modules/echarts/dist/echarts.min.js" "$dst/echarts/"
touch "$stamp"
echo "assets: copied into internal/web/static/vendor"
