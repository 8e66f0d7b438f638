//go:build !veilbench

package main

// withoutClassification is false in every build but the load test's
// baseline (build tag veilbench, see baseline.go).
const withoutClassification = false
