package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
)

// Session is a signed-in device. Only the SHA-256 of its bearer token is
// stored; the token itself is shown to the client once, at login.
type Session struct {
	ent.Schema
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").
			Sensitive().
			Immutable().
			Annotations(classification.Tag(classification.SecretData)),
		field.Int("user_id").
			Immutable().
			Annotations(classification.Tag(classification.Internal)),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.Internal)),
		field.Time("expires_at").
			Annotations(classification.Tag(classification.Internal)),
		field.Time("revoked_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Internal)),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("sessions").
			Field("user_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Internal)),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("token_hash").Unique()}
}

// Annotations of the Session: never part of the GraphQL schema.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("user_id").KeptAfterCancel("revoked at cancellation; holds only a token hash and times"),
		entgql.Skip(entgql.SkipAll),
	}
}
