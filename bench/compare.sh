#!/usr/bin/env bash
# Runnel against redis-server, side by side, on issue 5's target workloads:
# prints the markdown of BENCHMARKS.md's "Latest run" (medians, ratios,
# targets). It installs nothing: without redis-server on PATH it says what
# to install and exits 2. Flags go to `runnel-bench compare` (see --help),
# e.g. bench/compare.sh --runs 3 --out /tmp/latest.md
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/runnel-bench compare "$@"
