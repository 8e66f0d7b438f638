package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
	"veil/crypt"
)

// This file holds the records of POLICY.md P1: what the app collects about
// a user, one Ent type per kind, each field tagged with its class.

// Device is a device a user signed in from (P1.4, P8).
type Device struct{ ent.Schema }

// Fields of the Device.
func (Device) Fields() []ent.Field {
	info := tag(classification.DeviceInfo)
	id := tag(classification.DeviceID)
	return []ent.Field{
		ownerField(),
		field.String("model").MaxLen(64).Annotations(info),
		field.String("os").MaxLen(32).Annotations(info),
		field.String("os_version").MaxLen(32).Annotations(info),
		field.String("client_version").MaxLen(32).Annotations(info),
		field.String("resolution").MaxLen(16).Annotations(info),
		field.String("package_name").MaxLen(128).Annotations(info),
		field.String("settings").MaxLen(2048).Default("").Annotations(info),
		field.Strings("app_list").Optional().Annotations(info),
		field.String("imei").Optional().Nillable().MaxLen(32).Annotations(id),
		field.String("idfa").Optional().Nillable().MaxLen(64).Annotations(id),
		field.String("oaid").Optional().Nillable().MaxLen(64).Annotations(id),
		field.String("mac").Optional().Nillable().MaxLen(32).Annotations(id),
		field.String("imsi").Optional().Nillable().MaxLen(15).
			Comment("The SIM's subscriber identity (P8): masked to its last 4 for anyone but the user.").
			Annotations(id),
		field.Time("registered_at").Default(time.Now).Immutable().Annotations(info),
	}
}

// Edges of the Device.
func (Device) Edges() []ent.Edge { return []ent.Edge{ownerEdge("devices")} }

// Annotations of the Device: whom its rows are about, and their fate.
func (Device) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("DEVICES")}
}

// ActivityLog is one behaviour event (P1.4 logs).
type ActivityLog struct{ ent.Schema }

// Fields of the ActivityLog.
func (ActivityLog) Fields() []ent.Field {
	b := tag(classification.Behaviour)
	return []ent.Field{
		ownerField(),
		field.Enum("kind").
			Values("LOGIN", "SEARCH", "PAGE_VIEW", "PUSH_OPEN", "STAY", "REFRESH", "POST", "FAVOURITE", "SHARE").
			Annotations(b, entgql.Type("ActivityKind")),
		field.String("login_account").Optional().Nillable().MaxLen(64).Annotations(b),
		field.String("search_query").Optional().Nillable().MaxLen(256).Annotations(b),
		field.String("ip").Optional().Nillable().MaxLen(45).Annotations(tag(classification.IPAddress)),
		field.String("browser").Optional().Nillable().MaxLen(128).Annotations(b),
		field.String("carrier").Optional().Nillable().MaxLen(32).Annotations(b),
		field.String("network").Optional().Nillable().MaxLen(16).Annotations(b),
		field.String("language").Optional().Nillable().MaxLen(16).Annotations(b),
		field.String("page").Optional().Nillable().MaxLen(256).Annotations(b),
		field.String("target").Optional().Nillable().MaxLen(128).
			Comment("What a push open, post, favourite or share was about.").
			Annotations(b),
		field.Int("stay_seconds").Optional().Nillable().NonNegative().Annotations(b),
		field.Time("occurred_at").Immutable().Annotations(b),
	}
}

// Edges of the ActivityLog.
func (ActivityLog) Edges() []ent.Edge { return []ent.Edge{ownerEdge("activities")} }

// Annotations of the ActivityLog.
func (ActivityLog) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("ACTIVITY").ExpiresFrom("occurred_at"), entgql.RelayConnection()}
}

// Indexes of the ActivityLog.
func (ActivityLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "occurred_at"), index.Fields("occurred_at")}
}

// WebVisit is one page view of the web app under an analytics cookie
// (P2), kept for the aggregate figures only: keyed to a hash of the cookie
// and to the consent it was counted under, never served.
type WebVisit struct{ ent.Schema }

// Fields of the WebVisit.
func (WebVisit) Fields() []ent.Field {
	v := tag(classification.WebVisit)
	return []ent.Field{
		field.String("visitor").NotEmpty().MaxLen(64).Immutable().
			Comment("HMAC-SHA256 of the analytics cookie under the server's secret, hex.").
			Annotations(v),
		field.String("page").NotEmpty().MaxLen(256).Immutable().
			Comment("The page's route template, never its path.").
			Annotations(v),
		field.Time("day").Immutable().Annotations(v),
		field.Int("consent_id").Immutable().
			Comment("The ANALYTICS_COOKIES consent the view was counted under: withdrawing it, or cancelling, deletes the view, and the figures count people by it.").
			Annotations(v),
	}
}

// Annotations of the WebVisit.
func (WebVisit) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.SystemRows().ExpiresFrom("day"), entgql.Skip(entgql.SkipAll)}
}

// Indexes of the WebVisit.
func (WebVisit) Indexes() []ent.Index {
	return []ent.Index{index.Fields("visitor"), index.Fields("day"), index.Fields("consent_id")}
}

// AppLog is one start-up or crash report of the app (P8), kept to find
// and fix faults (P1.12: keeping the service working).
type AppLog struct{ ent.Schema }

// Fields of the AppLog.
func (AppLog) Fields() []ent.Field {
	l := tag(classification.AppLog)
	return []ent.Field{
		ownerField(),
		field.Enum("kind").Values("STARTUP", "CRASH").Annotations(l, entgql.Type("AppLogKind")),
		field.String("app_version").NotEmpty().MaxLen(32).Annotations(l),
		field.String("os_version").NotEmpty().MaxLen(32).Annotations(l),
		field.String("device_model").NotEmpty().MaxLen(64).Annotations(l),
		field.Int("startup_ms").Optional().Nillable().NonNegative().
			Comment("How long the start took, for a STARTUP.").
			Annotations(l),
		field.String("crash_type").Optional().Nillable().MaxLen(128).
			Comment("The exception or signal of a CRASH.").
			Annotations(l),
		field.String("stack").Optional().Nillable().MaxLen(8000).
			Comment("The crash's stack frames; never shown to staff without a purpose.").
			Annotations(l),
		field.Time("occurred_at").Immutable().Annotations(l),
	}
}

// Edges of the AppLog.
func (AppLog) Edges() []ent.Edge { return []ent.Edge{ownerEdge("app_logs")} }

// Annotations of the AppLog.
func (AppLog) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("APP_LOGS").ExpiresFrom("occurred_at"), entgql.RelayConnection()}
}

// Indexes of the AppLog.
func (AppLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "occurred_at"), index.Fields("occurred_at")}
}

// Contact is an address-book entry uploaded with the user's consent.
type Contact struct{ ent.Schema }

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	a := tag(classification.AddressBook)
	return []ent.Field{
		ownerField(),
		field.String("name").NotEmpty().MaxLen(64).
			ValueScanner(crypt.String("contacts.name")).SchemaType(crypt.TextColumn).Annotations(a),
		field.String("phone").NotEmpty().MaxLen(32).
			ValueScanner(crypt.String("contacts.phone")).SchemaType(crypt.TextColumn).Annotations(a),
		field.Time("uploaded_at").Default(time.Now).Immutable().Annotations(a),
	}
}

// Edges of the Contact.
func (Contact) Edges() []ent.Edge { return []ent.Edge{ownerEdge("contacts")} }

// Annotations of the Contact: whom its rows are about, and their fate.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("ADDRESS_BOOK")}
}

// CallLogEntry is one call-log record uploaded with the user's consent.
type CallLogEntry struct{ ent.Schema }

// Fields of the CallLogEntry.
func (CallLogEntry) Fields() []ent.Field {
	c := tag(classification.CallLog)
	return []ent.Field{
		ownerField(),
		field.String("phone").NotEmpty().MaxLen(32).
			ValueScanner(crypt.String("call_log_entries.phone")).SchemaType(crypt.TextColumn).Annotations(c),
		field.Enum("direction").Values("INCOMING", "OUTGOING", "MISSED").Annotations(c, entgql.Type("CallDirection")),
		field.Time("started_at").Annotations(c),
		field.Int("duration_seconds").NonNegative().Annotations(c),
	}
}

// Edges of the CallLogEntry.
func (CallLogEntry) Edges() []ent.Edge { return []ent.Edge{ownerEdge("call_logs")} }

// Annotations of the CallLogEntry: whom its rows are about, and their fate.
func (CallLogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("CALL_LOG")}
}

// Location is one precise position of the user (P1.4).
type Location struct{ ent.Schema }

// Fields of the Location.
func (Location) Fields() []ent.Field {
	l := tag(classification.Location)
	return []ent.Field{
		ownerField(),
		field.Float("latitude").Min(-90).Max(90).
			ValueScanner(crypt.Float("locations.latitude")).SchemaType(crypt.TextColumn).Annotations(l),
		field.Float("longitude").Min(-180).Max(180).
			ValueScanner(crypt.Float("locations.longitude")).SchemaType(crypt.TextColumn).Annotations(l),
		field.Float("accuracy_meters").Optional().Min(0).
			ValueScanner(crypt.Float("locations.accuracy_meters")).SchemaType(crypt.TextColumn).Annotations(l),
		field.String("address").Optional().MaxLen(256).
			ValueScanner(crypt.String("locations.address")).SchemaType(crypt.TextColumn).Annotations(l),
		field.Time("recorded_at").Immutable().Annotations(l),
	}
}

// Edges of the Location.
func (Location) Edges() []ent.Edge { return []ent.Edge{ownerEdge("locations")} }

// Annotations of the Location: whom its rows are about, and their fate.
func (Location) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("LOCATION").ExpiresFrom("recorded_at")}
}

// ThirdPartyBinding is a WeChat, QQ or Alipay account bound to the user (P1.7).
type ThirdPartyBinding struct{ ent.Schema }

// Fields of the ThirdPartyBinding.
func (ThirdPartyBinding) Fields() []ent.Field {
	t := tag(classification.ThirdPartyAccount)
	return []ent.Field{
		ownerField(),
		field.Enum("provider").Values("WECHAT", "QQ", "ALIPAY").Annotations(t, entgql.Type("ThirdPartyProvider")),
		field.String("open_id").NotEmpty().MaxLen(128).Annotations(t),
		field.String("username").Default("").MaxLen(64).Annotations(t),
		field.String("nickname").Default("").MaxLen(64).Annotations(t),
		field.String("avatar_url").Default("").MaxLen(512).Annotations(t),
		field.Time("bound_at").Default(time.Now).Immutable().Annotations(t),
	}
}

// Edges of the ThirdPartyBinding.
func (ThirdPartyBinding) Edges() []ent.Edge { return []ent.Edge{ownerEdge("third_party_bindings")} }

// Annotations of the ThirdPartyBinding: whom its rows are about, and their fate.
func (ThirdPartyBinding) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("THIRD_PARTY_ACCOUNTS")}
}

// Indexes of the ThirdPartyBinding.
func (ThirdPartyBinding) Indexes() []ent.Index {
	return []ent.Index{index.Fields("provider", "open_id").Unique()}
}

// SupportTicket is a customer-service case (P1.6).
type SupportTicket struct{ ent.Schema }

// Fields of the SupportTicket.
func (SupportTicket) Fields() []ent.Field {
	s := tag(classification.Support)
	return []ent.Field{
		ownerField(),
		field.String("contact").NotEmpty().MaxLen(64).
			Comment("How support may reach the user.").
			Annotations(tag(classification.Contact)),
		field.String("content").NotEmpty().MaxLen(4000).Annotations(s),
		field.String("handling_record").Default("").MaxLen(8000).Annotations(s),
		field.Enum("status").Values("OPEN", "CLOSED").Default("OPEN").Annotations(s, entgql.Type("TicketStatus")),
		field.Time("opened_at").Default(time.Now).Immutable().Annotations(s),
		field.Time("closed_at").Optional().Nillable().Annotations(s),
	}
}

// Edges of the SupportTicket.
func (SupportTicket) Edges() []ent.Edge { return []ent.Edge{ownerEdge("support_tickets")} }

// Annotations of the SupportTicket: whom its rows are about, and their fate.
func (SupportTicket) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("SUPPORT_TICKETS")}
}

// RealNameVerification is one real-name check (P1.3). A passing one also
// sets the user's real name, ID number and birth date.
type RealNameVerification struct{ ent.Schema }

// Fields of the RealNameVerification.
func (RealNameVerification) Fields() []ent.Field {
	return []ent.Field{
		ownerField(),
		field.String("real_name").NotEmpty().MaxLen(64).Immutable().
			ValueScanner(crypt.String("real_name_verifications.real_name")).SchemaType(crypt.TextColumn).
			Annotations(tag(classification.RealName)),
		field.String("id_number").NotEmpty().Immutable().
			ValueScanner(crypt.String("real_name_verifications.id_number")).SchemaType(crypt.TextColumn).
			Annotations(tag(classification.GovernmentID)),
		field.String("id_photo_ref").Optional().MaxLen(256).Immutable().
			ValueScanner(crypt.String("real_name_verifications.id_photo_ref")).SchemaType(crypt.TextColumn).
			Comment("Reference to the ID photo held by the verifier; the photo is not stored here.").
			Annotations(tag(classification.GovernmentID)),
		field.Enum("result").Values("PASSED", "REJECTED").Immutable().Annotations(tag(classification.RealName), entgql.Type("VerificationResult")),
		field.String("verifier").NotEmpty().Immutable().Annotations(tag(classification.Internal)),
		field.Time("verified_at").Immutable().Annotations(tag(classification.Internal)),
	}
}

// Edges of the RealNameVerification.
func (RealNameVerification) Edges() []ent.Edge {
	return []ent.Edge{ownerEdge("real_name_verifications")}
}

// Annotations of the RealNameVerification: whom its rows are about, and their fate.
func (RealNameVerification) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id")}
}

// FaceVerification is the outcome of a live face check (P1.3a). The image
// goes to the provider and is dropped: only result, provider and time stay.
type FaceVerification struct{ ent.Schema }

// Fields of the FaceVerification.
func (FaceVerification) Fields() []ent.Field {
	f := tag(classification.FaceResult)
	return []ent.Field{
		ownerField(),
		field.Enum("result").Values("PASSED", "FAILED").Immutable().Annotations(f, entgql.Type("FaceResult")),
		field.String("provider").NotEmpty().Immutable().Annotations(f),
		field.Time("verified_at").Immutable().Annotations(f),
	}
}

// Edges of the FaceVerification.
func (FaceVerification) Edges() []ent.Edge { return []ent.Edge{ownerEdge("face_verifications")} }

// Annotations of the FaceVerification: whom its rows are about, and their fate.
func (FaceVerification) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.About("user_id").DeletedAs("FACE_VERIFICATIONS")}
}
