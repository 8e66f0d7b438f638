// Package ent holds the generated Ent client. Only schema/, entc.go and this
// file are written by hand.
package ent

//go:generate go run -mod=mod entc.go
