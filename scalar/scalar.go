// Package scalar reads the GraphQL scalars whose values clients write by
// hand, Time and Cursor, so that a malformed one is a VALIDATION_FAILED
// answer naming the argument, never an internal error.
package scalar

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"veil/ent"
	"veil/fault"
)

// ErrBadTime and ErrBadCursor are returned for values that do not read;
// the error presenter names the argument from the path.
var (
	ErrBadTime   = fault.Invalid("", "not an RFC 3339 date-time, e.g. 2026-01-31T08:00:00+08:00")
	ErrBadCursor = fault.Invalid("", "not a cursor this server gave out")
)

// MarshalTime writes a Time (gqlgen scalar Time).
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads a Time sent by a client.
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, ErrBadTime
	}
	return t, nil
}

// MarshalCursor writes a pagination cursor (gqlgen scalar Cursor).
func MarshalCursor(c ent.Cursor) graphql.Marshaler { return c }

// UnmarshalCursor reads a pagination cursor sent by a client.
func UnmarshalCursor(v any) (ent.Cursor, error) {
	var c ent.Cursor
	if err := c.UnmarshalGQL(v); err != nil {
		return ent.Cursor{}, ErrBadCursor
	}
	return c, nil
}
