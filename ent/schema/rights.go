package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
)

// RightsRequest is a data-subject request (POLICY.md P5, P9): tracked with
// the date it is due, 15 working days after it was made.
type RightsRequest struct{ ent.Schema }

// Fields of the RightsRequest.
func (RightsRequest) Fields() []ent.Field {
	i := tag(classification.Internal)
	return []ent.Field{
		ownerField(),
		field.Enum("kind").Values("EXPORT", "CORRECTION", "DELETION", "CANCELLATION").Immutable().
			Annotations(i, entgql.Type("RightsRequestKind")),
		field.Int("requester_id").Immutable().
			Comment("Who asked: the user, or their guardian.").
			Annotations(i, entgql.Type("ID")),
		field.Time("created_at").Immutable().Annotations(tag(classification.PublicData), entgql.OrderField("CREATED_AT")),
		field.Time("due_at").Immutable().Annotations(tag(classification.PublicData), entgql.OrderField("DUE_AT")),
		field.Enum("status").Values("OPEN", "COMPLETED", "REJECTED").Default("OPEN").
			Annotations(i, entgql.Type("RightsRequestStatus")),
		field.Time("completed_at").Optional().Nillable().Annotations(i),
		field.String("outcome").Default("").MaxLen(2000).
			Comment("What was done, in categories and counts; never the data itself.").
			Annotations(i),
	}
}

// Edges of the RightsRequest.
func (RightsRequest) Edges() []ent.Edge { return []ent.Edge{ownerEdge("rights_requests")} }

// Annotations of the RightsRequest: listed for staff by rightsRequests.
func (RightsRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("user_id").KeptAfterCancel("record of how the subject's requests were answered (POLICY.md P9)"),
		entgql.QueryField(), entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
	}
}

// Indexes of the RightsRequest.
func (RightsRequest) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "due_at")}
}
