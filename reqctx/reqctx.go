// Package reqctx carries per-request facts that are not about privacy —
// the request id and the client's address — from the HTTP layer to the
// code that logs and rate-limits.
package reqctx

import (
	"context"
	"time"
)

type key struct{}

// Info is what the HTTP layer knows about a request.
type Info struct {
	// ID identifies the request in logs and in the X-Request-Id header.
	ID string
	// ClientIP is the client's address as limits count it: the remote
	// IPv4 address, or the /64 network of an IPv6 one.
	ClientIP string
	// Cookies sets and clears the web session cookie of the response;
	// nil outside an HTTP request.
	Cookies Cookies
}

// Cookies is the web session cookie of one response (see httpapi).
type Cookies interface {
	// CheckOrigin refuses a request that does not come from the site's
	// own pages: only those may be given, or use, the cookie.
	CheckOrigin() error
	// SetSession holds token in the cookie until expires.
	SetSession(token string, expires time.Time)
	// ClearSession removes the cookie.
	ClearSession()
	// Visitor is the analytics cookie's value, or "" (POLICY.md P2).
	Visitor() string
	// SetVisitor sets a new analytics cookie; ClearVisitor removes it.
	SetVisitor()
	ClearVisitor()
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
