// Package reqctx carries per-request facts that are not about privacy —
// the request id and the client's address — from the HTTP layer to the
// code that logs and rate-limits.
package reqctx

import "context"

type key struct{}

// Info is what the HTTP layer knows about a request.
type Info struct {
	// ID identifies the request in logs and in the X-Request-Id header.
	ID string
	// ClientIP is the client's address as limits count it: the remote
	// IPv4 address, or the /64 network of an IPv6 one.
	ClientIP string
}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's info (empty outside a request).
func From(ctx context.Context) Info {
	i, _ := ctx.Value(key{}).(Info)
	return i
}
