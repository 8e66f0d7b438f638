package classification

import "context"

// Viewer is whoever makes a request. The zero Viewer is the anonymous
// viewer, so a missing viewer fails closed.
type Viewer struct {
	// UserID is the signed-in account; zero for the anonymous viewer.
	UserID int
	// SessionID is the session the bearer token belongs to.
	SessionID int
	// Role is the account's role; empty for the anonymous viewer.
	Role Role
	// Purpose is the access purpose a staff viewer declared, if any.
	Purpose Purpose
}

// Anonymous is the viewer of a request without credentials.
var Anonymous = Viewer{}

// System is the system's own processing: seeding, purging past
// retention, erasing a cancelled account, and the look-ups the privacy
// layer itself makes (whom a row is about). It is not collection, so it
// needs no consent, and no row rule hides rows from it. It is never
// signed in, so no field decision ever shows it anything.
var System = Viewer{Role: RoleSystem}

// AsSystem returns a copy of ctx whose viewer is System.
//
// SECURITY: every call is a bypass of the consent and row rules; grep
// for AsSystem to review them all.
func AsSystem(ctx context.Context) context.Context { return NewContext(ctx, System) }

// IsSystem reports whether the viewer is the system itself.
func (v Viewer) IsSystem() bool { return v.Role == RoleSystem && v.UserID == 0 }

// SignedIn reports whether the viewer holds a valid session.
func (v Viewer) SignedIn() bool { return v.UserID != 0 }

// IsStaff reports whether the viewer is signed in with a staff role.
func (v Viewer) IsStaff() bool { return v.SignedIn() && v.Role.IsStaff() }

// HasPurpose reports whether the viewer is staff who declared p and whose
// role allows declaring it.
func (v Viewer) HasPurpose(p Purpose) bool {
	return v.IsStaff() && p != NoPurpose && v.Purpose == p && v.Role.MayDeclare(p)
}

type viewerKey struct{}

// NewContext returns a copy of ctx that carries v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer in ctx, or Anonymous when there is none.
func FromContext(ctx context.Context) Viewer {
	if v, ok := ctx.Value(viewerKey{}).(Viewer); ok {
		return v
	}
	return Anonymous
}
