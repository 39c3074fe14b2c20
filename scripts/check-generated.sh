#!/usr/bin/env bash
# Fails when api/ is not what `go generate ./api` makes from openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./api
if ! git diff --quiet -- api/; then
  git --no-pager diff --stat -- api/
  echo "check: api/ was stale; it has been regenerated — commit the result"
  exit 1
fi
