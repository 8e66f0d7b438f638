package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"veil/classification"
)

// AuditEvent is one entry of the append-only, hash-chained audit log
// (DESIGN.md rule 7). Each entry's hash covers its content and the hash of
// the entry before it, so altering, deleting or re-ordering a row breaks
// the chain from that row on.
type AuditEvent struct{ ent.Schema }

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	a := tag(classification.AuditTrail)
	return []ent.Field{
		field.Int64("seq").Positive().Immutable().
			Comment("Position in the chain, from 1, without gaps.").
			Annotations(a),
		field.Time("at").Immutable().Annotations(a),
		field.Int("actor_id").Optional().Nillable().Immutable().
			Comment("Who acted; empty for the system (purge).").
			Annotations(a, entgql.Type("ID")),
		field.String("actor_role").Default("").Immutable().Annotations(a),
		field.Int("subject_id").Optional().Nillable().Immutable().
			Comment("Whose data it was about; empty for system-wide events.").
			Annotations(a, entgql.Type("ID")),
		field.String("action").NotEmpty().Immutable().Annotations(a),
		field.String("class").Default("").Immutable().
			Comment("The class the entry is about; for a raw read, every class read of the subject in that request, comma-separated.").
			Annotations(a),
		field.String("purpose").Default("").Immutable().Annotations(a),
		field.String("detail").Default("").MaxLen(1000).Immutable().
			Comment("Categories and counts; never a protected value.").
			Annotations(a),
		field.String("prev_hash").Immutable().Annotations(a),
		field.String("hash").Immutable().Annotations(a),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("seq").Unique(),
		index.Fields("subject_id", "at"),
		index.Fields("actor_id", "at"),
	}
}

// Annotations of the AuditEvent: listed by auditEvents, written only by
// package audit, never filtered through a generated WhereInput.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("subject_id").
			KeptAfterCancel("the audit log is kept 36 months after recording (PIPL Art. 54, POLICY.md P4.3), and its chain must stay whole"),
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// AuditHead is the chain's head: the last sequence number and hash, kept
// in the same transaction as each append, so that deleting the newest
// entries is detected too.
type AuditHead struct{ ent.Schema }

// Fields of the AuditHead.
func (AuditHead) Fields() []ent.Field {
	a := tag(classification.AuditTrail)
	return []ent.Field{
		field.Int64("seq").Annotations(a),
		field.String("hash").Annotations(a),
	}
}

// Annotations of the AuditHead: not part of the GraphQL schema.
func (AuditHead) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.SystemRows(), entgql.Skip(entgql.SkipAll)}
}
