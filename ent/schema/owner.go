package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"veil/classification"
)

// ownerField is the user_id of a record about one user: the record's
// subject. The collection hook reads it to find whose consent applies.
func ownerField() ent.Field {
	return field.Int("user_id").
		Immutable().
		Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll))
}

// ownerEdge is the edge from a record to its subject; ref names the edge
// on User.
func ownerEdge(ref string) ent.Edge {
	return edge.From("user", User.Type).
		Ref(ref).
		Field("user_id").
		Unique().Required().Immutable().
		Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll))
}

// tag is shorthand for the class annotation.
func tag(c *classification.Class) classification.Annotation { return classification.Tag(c) }
