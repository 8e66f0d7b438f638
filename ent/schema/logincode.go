package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
)

// LoginCode is a one-time SMS login code. Only its keyed hash is stored.
type LoginCode struct {
	ent.Schema
}

// Fields of the LoginCode.
func (LoginCode) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").
			NotEmpty().
			Immutable().
			Annotations(classification.Tag(classification.Contact)),
		field.Bytes("code_hash").
			Sensitive().
			Immutable().
			Annotations(classification.Tag(classification.SecretData)),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.Internal)),
		field.Time("expires_at").
			Immutable().
			Annotations(classification.Tag(classification.Internal)),
		field.Bytes("requested_from").
			Optional().
			Sensitive().
			Immutable().
			Comment("Keyed hash of the client address that asked for the code (never the address).").
			Annotations(classification.Tag(classification.SecretData)),
		field.Int("attempts").
			Default(0).
			Comment("Guesses from the address that asked for the code.").
			Annotations(classification.Tag(classification.Internal)),
		field.Int("foreign_attempts").
			Default(0).
			Comment("Guesses from any other address.").
			Annotations(classification.Tag(classification.Internal)),
		field.Time("used_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Internal)),
	}
}

// Indexes of the LoginCode.
func (LoginCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("phone", "created_at")}
}

// Annotations of the LoginCode: never part of the GraphQL schema.
func (LoginCode) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.SystemRows(), entgql.Skip(entgql.SkipAll)}
}
