package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
)

// Consent is one grant of one purpose under one policy version, and its
// withdrawal. Rows are never deleted: the ledger is the proof of consent.
type Consent struct {
	ent.Schema
}

// Fields of the Consent.
func (Consent) Fields() []ent.Field {
	purposes := make([]string, len(classification.ConsentPurposes))
	for i, p := range classification.ConsentPurposes {
		purposes[i] = string(p)
	}
	return []ent.Field{
		field.Int("user_id").
			Immutable().
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Enum("purpose").
			Values(purposes...).
			Immutable().
			Annotations(classification.Tag(classification.ConsentRecord), entgql.Type("ConsentPurpose")),
		field.String("policy_version").
			NotEmpty().
			Immutable().
			Annotations(classification.Tag(classification.ConsentRecord)),
		field.Time("granted_at").
			Immutable().
			Annotations(classification.Tag(classification.ConsentRecord)),
		field.Time("withdrawn_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.ConsentRecord)),
		field.String("recipient").
			Optional().Nillable().
			Immutable().
			MaxLen(128).
			Comment("For THIRD_PARTY_SHARING: the one recipient this consent covers (PIPL Art. 23).").
			Annotations(classification.Tag(classification.ConsentRecord)),
		field.Int("granted_by").
			Optional().Nillable().
			Immutable().
			Comment("The guardian who consented for a ward, if not the user.").
			Annotations(classification.Tag(classification.ConsentRecord), entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Consent.
func (Consent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("consents").
			Field("user_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the Consent: whom its rows are about, and their fate.
func (Consent) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").KeptAfterCancel("proof of the consent under which past processing was lawful (PIPL Art. 15)")}
}

// Indexes of the Consent.
func (Consent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "purpose")}
}
