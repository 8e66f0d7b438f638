// Package graph holds Veil's GraphQL resolvers and the gqlgen-generated
// execution code (generated.go, model/). Resolvers stay thin: they call
// domain packages, and never mask a value by hand — the @classified
// directive, implemented by classification.Enforcer, does that.
package graph

import (
	"context"
	"io"
	"time"

	"entgo.io/ent/dialect"

	"veil/account"
	"veil/classification"
	"veil/ent"
	"veil/identity"
	"veil/ratelimit"
	"veil/rights"
)

// Resolver is the root resolver; its fields are the dependencies.
type Resolver struct {
	Client *ent.Client
	// Driver is the client's driver, for the few reads that Ent's typed
	// API cannot express generically (the export streams rows by table).
	Driver   dialect.Driver
	Accounts *account.Service
	Identity *identity.Service
	// SignInLimiter, when set, bounds requestLoginCode and login per
	// client address.
	SignInLimiter *ratelimit.Limiter
	// AvatarHosts are the image hosts avatars may come from
	// (rights.DefaultAvatarHosts when empty).
	AvatarHosts []string
	// Now is the request clock (age groups are derived from it); time.Now
	// when nil.
	Now func() time.Time
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ExportTo writes the export document of the viewer in ctx (or, with
// forUser, of their child) to w, and records the request. It serves both
// exportMyData and the GET /export download.
func (r *Resolver) ExportTo(ctx context.Context, w io.Writer, forUser *int) error {
	subject, _, err := r.actingFor(ctx, forUser, classification.Export)
	if err != nil {
		return err
	}
	now := r.now()
	if err := rights.Export(ctx, r.Client, r.Driver, subject, w, now); err != nil {
		return err
	}
	return rights.RecordExport(ctx, r.Client, classification.FromContext(ctx).UserID, subject, now)
}
