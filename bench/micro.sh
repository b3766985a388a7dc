#!/usr/bin/env bash
# Go micro-benchmarks of Runnel's hot paths: the working tree against a base
# revision, compared with benchstat (go tool benchstat, pinned in go.mod).
#
#   bench/micro.sh [BASE]     BASE defaults to HEAD (the uncommitted change)
#
# Environment: COUNT runs per side (default 6), BENCH a -bench regexp
# (default .), PKGS the packages (default: the hot paths below).
#
# Each package's test binary is built once per side; the runs then
# alternate base and new so that the noise of a shared machine falls on
# both. Nothing is installed; the base is checked out in a temporary
# worktree that is removed at the end.
set -euo pipefail

base=${1:-HEAD}
count=${COUNT:-6}
bench=${BENCH:-.}
pkgs=${PKGS:-"./internal/resp ./internal/stream ./internal/seglog ./internal/wal ./internal/nodestore ./internal/app"}

root=$(git rev-parse --show-toplevel)
cd "$root"
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach "$tmp/base" "$base" >/dev/null 2>&1

side_dir() { if [ "$1" = base ]; then echo "$tmp/base"; else echo "$root"; fi; }

for side in base new; do
	for p in $pkgs; do
		bin="$tmp/$side-$(echo "$p" | tr -c 'a-zA-Z0-9\n' _).test"
		if ! (cd "$(side_dir $side)" && go test -c -o "$bin" "$p" >/dev/null); then
			echo "micro.sh: $p does not build on $side; skipped there" >&2
		fi
	done
done

for i in $(seq "$count"); do
	echo "micro.sh: round $i of $count" >&2
	for side in base new; do
		for p in $pkgs; do
			bin="$tmp/$side-$(echo "$p" | tr -c 'a-zA-Z0-9\n' _).test"
			[ -x "$bin" ] || continue
			(cd "$(side_dir $side)/$p" && "$bin" -test.run '^$' -test.bench "$bench" -test.benchmem -test.count 1) >>"$tmp/$side.txt"
		done
	done
done

echo "base: $(git rev-parse --short "$base"); new: working tree of $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
go tool benchstat base="$tmp/base.txt" new="$tmp/new.txt"
