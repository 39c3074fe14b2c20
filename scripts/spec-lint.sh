#!/usr/bin/env bash
# Lints openapi.yaml with the Redocly CLI pinned in scripts/lint/package-lock.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lint=$root/scripts/lint
if [[ ! -x $lint/node_modules/.bin/redocly || $lint/package-lock.json -nt $lint/node_modules/.package-lock.json ]]; then
  npm ci --prefix "$lint" --no-audit --no-fund --ignore-scripts --loglevel=error
fi
"$lint/node_modules/.bin/redocly" lint --config "$lint/redocly.yaml" "$root/openapi.yaml"
