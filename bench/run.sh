#!/usr/bin/env bash
# Runs the comparison benchmarks in ROUNDS interleaved rounds (so that a
# burst of load on a shared machine hits every library alike), writes the raw
# results to bench.txt and prints the median of each figure as a table.
# benchstat (golang.org/x/perf/cmd/benchstat) reads bench.txt too.
set -euo pipefail
cd "$(dirname "$0")"
rounds="${ROUNDS:-5}"
benchtime="${BENCHTIME:-0.3s}"
: > bench.txt
for i in $(seq "$rounds"); do
	go test -run '^$' -bench . -benchtime "$benchtime" . | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >> bench.txt
done
go run ./cmd/mediantable < bench.txt
