// Package scalar reads the GraphQL scalars whose values clients write by
// hand, String, Time and Cursor, so that a malformed one is a
// VALIDATION_FAILED answer naming the argument, never an internal error.
package scalar

import (
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"veil/ent"
	"veil/fault"
	"veil/gid"
)

// Errors of values that do not read. A scalar does not know where it was
// given; the error presenter names the argument from the path (Errors).
var (
	ErrBadString = fault.New(fault.ValidationFailed, "must not contain a NUL character")
	ErrNotString = fault.New(fault.ValidationFailed, "must be a string")
	ErrBadTime   = fault.New(fault.ValidationFailed, "not an RFC 3339 date-time, e.g. 2026-01-31T08:00:00+08:00")
	ErrBadCursor = fault.New(fault.ValidationFailed, "not a cursor this server gave out")
)

// Errors are the errors of this package and of package gid, for the
// error presenter.
var Errors = []error{ErrBadString, ErrNotString, ErrBadTime, ErrBadCursor, gid.ErrInvalid}

// MarshalString writes a String (gqlgen scalar String).
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString reads a String sent by a client, as gqlgen does, except
// that a NUL character is refused here rather than by PostgreSQL, which
// stores no NUL in text and would fail the statement.
func UnmarshalString(v any) (string, error) {
	s, err := graphql.UnmarshalString(v)
	if err != nil {
		return "", ErrNotString
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", ErrBadString
	}
	return s, nil
}

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
