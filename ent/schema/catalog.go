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

// PolicyVersion is an archived version of the privacy policy (P7).
type PolicyVersion struct{ ent.Schema }

// Fields of the PolicyVersion.
func (PolicyVersion) Fields() []ent.Field {
	p := tag(classification.PublicData)
	return []ent.Field{
		field.String("version").NotEmpty().MaxLen(32).Immutable().Annotations(p),
		field.Time("published_at").Immutable().Annotations(p, entgql.OrderField("PUBLISHED_AT")),
		field.Bool("major").Immutable().
			Comment("A major change must be accepted again before non-essential operations.").
			Annotations(p),
		field.String("summary").Default("").MaxLen(4000).Immutable().Annotations(p),
		field.String("content_hash").NotEmpty().Immutable().
			Comment("SHA-256 of the published text, hex.").
			Annotations(p),
		field.Text("text").Default("").Immutable().
			Comment("The full published text, in Chinese: the version that stands (P7's archive).").
			Annotations(p),
		field.Text("text_en").Default("").Immutable().
			Comment("The English text or summary published with it, if any.").
			Annotations(p),
		field.String("changes").Default("").MaxLen(4000).Immutable().
			Comment("What changed from the version before, generated from the two texts.").
			Annotations(p),
		field.String("controller").Default("").MaxLen(200).Immutable().
			Comment("Who controls the data under this version, when the version names it; a change is a transfer (P3.2).").
			Annotations(p),
		field.Bool("reduces_rights").Default(false).Immutable().
			Comment("The version reduces users' rights: it is major, and binds no one who has not accepted it.").
			Annotations(p),
	}
}

// Indexes of the PolicyVersion.
func (PolicyVersion) Indexes() []ent.Index {
	return []ent.Index{index.Fields("version").Unique()}
}

// Annotations of the PolicyVersion.
func (PolicyVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.PublicRows(), entgql.QueryField(), entgql.RelayConnection()}
}

// ThirdPartySDK is an SDK embedded in the app (P1.8).
type ThirdPartySDK struct{ ent.Schema }

// Fields of the ThirdPartySDK.
func (ThirdPartySDK) Fields() []ent.Field {
	p := tag(classification.PublicData)
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(p),
		field.String("provider").NotEmpty().Annotations(p),
		field.String("purpose").NotEmpty().Annotations(p),
		field.Strings("data_types").Annotations(p),
		field.String("collection_moment").NotEmpty().Annotations(p),
		field.String("policy_url").NotEmpty().Annotations(p),
		field.String("region").Default(string(classification.Mainland)).Validate(classification.ValidRegion).
			Comment("Where the provider receives the data (POLICY.md P4.2).").
			Annotations(p),
	}
}

// Indexes of the ThirdPartySDK.
func (ThirdPartySDK) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name").Unique()}
}

// Annotations of the ThirdPartySDK.
func (ThirdPartySDK) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.PublicRows(), entgql.QueryField("thirdPartySDKs")}
}

// SharingRecord is one disclosure of a user's data to another party
// (P3.1): to an order's counterparty, a payment institution, a courier.
type SharingRecord struct{ ent.Schema }

// Fields of the SharingRecord.
func (SharingRecord) Fields() []ent.Field {
	i := tag(classification.Internal)
	return []ent.Field{
		ownerField(),
		field.String("recipient").NotEmpty().Immutable().
			Comment("Who received the data: a party name, or user:<id> for a counterparty.").
			Annotations(i),
		field.Strings("data_categories").Immutable().
			Comment("The class names shared.").
			Annotations(i),
		field.String("purpose").NotEmpty().Immutable().Annotations(i),
		field.String("legal_basis").NotEmpty().Immutable().Annotations(i),
		field.Int("order_id").Optional().Nillable().Immutable().Annotations(i, entgql.Type("ID")),
		field.String("region").Default(string(classification.Mainland)).Immutable().Validate(classification.ValidRegion).
			Comment("Where the recipient received the data; outside CN it is a transfer abroad (POLICY.md P4.2).").
			Annotations(i),
		field.Time("shared_at").Default(time.Now).Immutable().Annotations(i),
	}
}

// Edges of the SharingRecord.
func (SharingRecord) Edges() []ent.Edge { return []ent.Edge{ownerEdge("sharing_records")} }

// Annotations of the SharingRecord: the ledger is listed for staff by
// sharingRecords; users see theirs through me.sharingRecords.
func (SharingRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("user_id").KeptAfterCancel("record of a lawful disclosure that goes with a retained order"),
		entgql.QueryField(), entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
	}
}

// Notice is a message to one user in the app: that their data was
// disclosed on a legal demand (P3.3), for example.
type Notice struct{ ent.Schema }

// Fields of the Notice.
func (Notice) Fields() []ent.Field {
	i := tag(classification.NoticeText)
	return []ent.Field{
		ownerField(),
		field.Enum("kind").Values("LEGAL_DISCLOSURE").Immutable().Annotations(i, entgql.Type("NoticeKind")),
		field.String("message").NotEmpty().MaxLen(2000).Immutable().Annotations(i),
		field.Time("created_at").Immutable().Annotations(i),
	}
}

// Edges of the Notice.
func (Notice) Edges() []ent.Edge { return []ent.Edge{ownerEdge("notices")} }

// Annotations of the Notice: the user reads theirs through me.notices.
func (Notice) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id")}
}
