#!/usr/bin/env bash
# Benchmarks. Each figure is printed beside a baseline measured in the same
# run on the same machine, because this machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "bench: no benchmarks yet"
