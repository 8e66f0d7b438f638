package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"veil/classification"
)

// RateBucket is a rate limit's state for one key (a session, a client
// address), shared by every server process on the same PostgreSQL
// database (package ratelimit). The key is kept only as a keyed hash.
type RateBucket struct{ ent.Schema }

// Fields of the RateBucket.
func (RateBucket) Fields() []ent.Field {
	s := classification.Tag(classification.SecretData)
	return []ent.Field{
		field.String("bucket").Unique().Immutable().Sensitive().
			Comment("The limit's name and the keyed hash of its key.").
			Annotations(s),
		field.Float("tat").
			Comment("When the bucket is next empty again (GCRA's theoretical arrival time), in seconds since 1970.").
			Annotations(s, entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the RateBucket: the system's own rows, not part of the
// GraphQL schema.
func (RateBucket) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.SystemRows(), entgql.Skip(entgql.SkipAll)}
}
