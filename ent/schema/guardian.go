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

// GuardianLink is one guardianship, proven by both sides (POLICY.md P6):
// a verified adult asks (linkChild), the ward-to-be answers from their own
// session, and either side may end it. It is about the ward; the guardian
// becomes its counterparty only once the ward accepted, so a request
// tells the one who made it nothing about the account it went to.
type GuardianLink struct {
	ent.Schema
}

// Fields of the GuardianLink.
func (GuardianLink) Fields() []ent.Field {
	return []ent.Field{
		field.Int("child_id").
			Immutable().
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Int("requested_by").
			Immutable().
			Comment("The adult who asked to be the guardian.").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Int("guardian_id").
			Optional().Nillable().
			Comment("The guardian, once the ward accepted: the link's counterparty.").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.String("requester_nickname").
			Immutable().
			MaxLen(32).
			Comment("The requester's nickname when they asked, for the ward to recognise them.").
			Annotations(classification.Tag(classification.Guardianship)),
		field.String("requester_phone").
			Immutable().
			Comment("The requester's phone, masked, when they asked: for the ward to recognise them.").
			Annotations(classification.Tag(classification.Guardianship)),
		field.String("code_index").
			Optional().
			Sensitive().
			Immutable().
			Comment("Keyed hash of the pairing code the requester was given; the ward enters it to accept.").
			Annotations(classification.Tag(classification.SecretData)),
		field.Int("code_attempts").
			Default(0).
			Comment("Wrong pairing codes entered; the request is declined at MaxCodeAttempts.").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Enum("status").
			Values("PENDING", "ACTIVE", "DECLINED", "ENDED").
			Default("PENDING").
			Annotations(classification.Tag(classification.Guardianship), entgql.Type("GuardianLinkStatus")),
		field.Enum("end_reason").
			Values("BY_GUARDIAN", "BY_WARD", "WARD_CAME_OF_AGE", "WARD_DATA_DELETED", "ACCOUNT_CANCELLED").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Guardianship), entgql.Type("GuardianLinkEnd")),
		field.Time("requested_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.Guardianship)),
		field.Time("answered_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Guardianship)),
		field.Time("ended_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Guardianship)),
	}
}

// Edges of the GuardianLink.
func (GuardianLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("child", User.Type).
			Ref("guardian_links").
			Field("child_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		edge.From("guardian", User.Type).
			Ref("guarded_links").
			Field("guardian_id").
			Unique().
			Comment("The guardian, once accepted: their public profile.").
			Annotations(classification.Tag(classification.Guardianship)),
	}
}

// Indexes of the GuardianLink.
func (GuardianLink) Indexes() []ent.Index {
	return []ent.Index{index.Fields("child_id", "status"), index.Fields("requested_by", "requested_at"), index.Fields("guardian_id")}
}

// Annotations of the GuardianLink: whom its rows are about, and their fate.
func (GuardianLink) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("child_id").WithCounterparty("guardian_id").
			KeptAfterCancel("proof of who consented for a minor, and when (PIPL Art. 31)"),
	}
}
