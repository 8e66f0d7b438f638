// Package graph holds Veil's GraphQL resolvers and the gqlgen-generated
// execution code (generated.go, model/). Resolvers stay thin: they call
// domain packages, and never mask a value by hand — the @classified
// directive, implemented by classification.Enforcer, does that.
package graph

import (
	"time"

	"entgo.io/ent/dialect"

	"veil/account"
	"veil/ent"
	"veil/identity"
)

// Resolver is the root resolver; its fields are the dependencies.
type Resolver struct {
	Client *ent.Client
	// Driver is the client's driver, for the few reads that Ent's typed
	// API cannot express generically (owners of records by table).
	Driver   dialect.Driver
	Accounts *account.Service
	Identity *identity.Service
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
