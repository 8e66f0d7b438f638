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
			Comment("Whose data it was about; empty for system-wide events, and for a raw read of several subjects (its detail lists them).").
			Annotations(a, entgql.Type("ID")),
		field.String("action").NotEmpty().Immutable().Annotations(a),
		field.String("class").Default("").Immutable().
			Comment("The class the entry is about; for a raw read, every class the request read, comma-separated.").
			Annotations(a),
		field.String("purpose").Default("").Immutable().Annotations(a),
		field.String("detail").Default("").MaxLen(1 << 20).Immutable().
			Comment("Categories and counts, and for a raw read each subject read with its classes (\"12:contact,internal 15:contact\"); never a protected value.").
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

// AuditSubject indexes the raw reads of the audit log by subject: a row
// for each subject a read entry lists, with the classes read. It is
// written with its entry and derived from the entry's detail, which the
// chain's hash covers; verifyAuditChain checks that the two agree.
type AuditSubject struct{ ent.Schema }

// Fields of the AuditSubject.
func (AuditSubject) Fields() []ent.Field {
	a := tag(classification.AuditTrail)
	return []ent.Field{
		field.Int64("seq").Positive().Immutable().
			Comment("The read entry's position in the chain.").
			Annotations(a),
		field.Int("subject_id").Immutable().Annotations(a),
		field.String("classes").Immutable().
			Comment("The classes read of the subject, comma-separated.").
			Annotations(a),
	}
}

// Indexes of the AuditSubject.
func (AuditSubject) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subject_id", "seq").Unique(),
		index.Fields("seq"),
	}
}

// Annotations of the AuditSubject: not part of the GraphQL schema; kept
// as the log is.
func (AuditSubject) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("subject_id").
			KeptAfterCancel("it indexes the audit log, which is kept 36 months after recording (PIPL Art. 54, POLICY.md P4.3)"),
		entgql.Skip(entgql.SkipAll),
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
