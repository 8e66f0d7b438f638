//go:build veilbench

package main

import "log/slog"

// withoutClassification builds the load test's baseline: the same server
// with the classification layer removed (no masking, no withheld report,
// no audit of raw reads), to measure what the layer costs under load. It
// exists only in binaries built with -tags veilbench (bench/load.sh);
// never deploy one.
const withoutClassification = true

func init() {
	slog.Warn("BENCHMARK BASELINE BUILD: the classification layer is off; never deploy this binary")
}
