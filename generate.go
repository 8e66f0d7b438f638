// Package veil is the root of the Veil module. Its only code is the list of
// generators: `go generate .` regenerates everything, in order.
package veil

//go:generate go generate ./ent
//go:generate go tool gqlgen generate
