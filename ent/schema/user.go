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
	"veil/crypt"
)

// User is an account: a consumer, a guardian, or a staff member.
type User struct {
	ent.Schema
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").
			NotEmpty().
			Comment("Mainland mobile number, the login identity (P1.2).").
			Annotations(classification.Tag(classification.Contact)),
		field.String("nickname").
			Default("").
			MaxLen(32).
			Annotations(classification.Tag(classification.PublicProfile), entgql.OrderField("NICKNAME")),
		field.String("avatar_url").
			Default("").
			MaxLen(512).
			Annotations(classification.Tag(classification.PublicProfile)),
		field.String("real_name").
			Optional().
			ValueScanner(crypt.String("users.real_name")).SchemaType(crypt.TextColumn).
			Annotations(classification.Tag(classification.RealName)),
		field.String("id_number").
			Optional().
			ValueScanner(crypt.String("users.id_number")).SchemaType(crypt.TextColumn).
			Comment("GB 11643-1999 citizen identity number, 18 characters, encrypted at rest.").
			Annotations(classification.Tag(classification.GovernmentID)),
		field.String("id_number_index").
			Optional().Nillable().
			Sensitive().
			Comment("Keyed blind index of id_number, for uniqueness without plaintext.").
			Annotations(classification.Tag(classification.SecretData)),
		field.String("birth_date").
			Optional().Nillable().
			Comment("YYYY-MM-DD, taken from the verified ID number.").
			Annotations(classification.Tag(classification.BirthDate)),
		field.Time("real_name_verified_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.RealName)),
		field.Enum("status").
			Values("ACTIVE", "CANCELLED").
			Default("ACTIVE").
			Annotations(classification.Tag(classification.Internal), entgql.Type("AccountStatus")),
		field.Enum("role").
			Values("user", "support", "risk", "admin", "auditor").
			Default("user").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Time("cancelled_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Internal)),
		field.Time("suspended_at").
			Optional().Nillable().
			Comment("When an admin suspended this staff account: it cannot sign in, and its sessions ended.").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Time("id_number_held_until").
			Optional().Nillable().
			Comment("After a cancellation the subject did not choose (a guardian's), the blind index of the ID number is kept until then, so that no other account takes the identity while a dispute may be opened.").
			Annotations(classification.Tag(classification.SecretData), entgql.Skip(entgql.SkipAll)),
		field.Int("guardian_id").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.Internal)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("wards", User.Type).
			Comment("Wards under 18 this user is the guardian of (see GuardianLink).").
			Annotations(classification.Tag(classification.Internal), entgql.Skip(entgql.SkipAll)).
			From("guardian").
			Unique().
			Field("guardian_id").
			Annotations(classification.Tag(classification.Internal)),
		edge.To("guardian_links", GuardianLink.Type).
			Comment("Guardianship requests to this user and guardianships of theirs, as the ward.").
			Annotations(classification.Tag(classification.Guardianship)),
		edge.To("guarded_links", GuardianLink.Type).
			Comment("Guardianships this user holds or held, once accepted.").
			Annotations(classification.Tag(classification.Guardianship)),
		edge.To("orders", Order.Type).
			Comment("Orders the user placed as buyer.").
			Annotations(classification.Tag(classification.Transaction), entgql.RelayConnection()),
		edge.To("listings", Listing.Type).
			Comment("Listings the user sells.").
			Annotations(classification.Tag(classification.PublicData), entgql.RelayConnection()),
		edge.To("consents", Consent.Type).
			Annotations(classification.Tag(classification.ConsentRecord)),
		edge.To("devices", Device.Type).Annotations(tag(classification.DeviceInfo)),
		edge.To("activities", ActivityLog.Type).Annotations(tag(classification.Behaviour), entgql.RelayConnection()),
		edge.To("app_logs", AppLog.Type).Annotations(tag(classification.AppLog), entgql.RelayConnection()),
		edge.To("contacts", Contact.Type).Annotations(tag(classification.AddressBook)),
		edge.To("call_logs", CallLogEntry.Type).Annotations(tag(classification.CallLog)),
		edge.To("locations", Location.Type).Annotations(tag(classification.Location)),
		edge.To("third_party_bindings", ThirdPartyBinding.Type).Annotations(tag(classification.ThirdPartyAccount)),
		edge.To("support_tickets", SupportTicket.Type).Annotations(tag(classification.Support)),
		edge.To("real_name_verifications", RealNameVerification.Type).Annotations(tag(classification.RealName)),
		edge.To("face_verifications", FaceVerification.Type).Annotations(tag(classification.FaceResult)),
		edge.To("sharing_records", SharingRecord.Type).Annotations(tag(classification.Internal)),
		edge.To("notices", Notice.Type).Annotations(tag(classification.NoticeText)),
		edge.To("rights_requests", RightsRequest.Type).Annotations(tag(classification.Internal)),
		edge.To("sessions", Session.Type).
			Annotations(classification.Tag(classification.SecretData), entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("phone").Unique(),
		index.Fields("id_number_index").Unique(),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.IsPerson(),
		entgql.QueryField(),
		entgql.RelayConnection(),
	}
}
