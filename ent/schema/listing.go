package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"veil/classification"
)

// Listing is an item a seller offers; listings are public.
type Listing struct {
	ent.Schema
}

// Fields of the Listing.
func (Listing) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").
			NotEmpty().MaxLen(120).
			Annotations(classification.Tag(classification.PublicData), entgql.OrderField("TITLE")),
		field.Int64("price_fen").
			NonNegative().
			Annotations(classification.Tag(classification.PublicData), entgql.OrderField("PRICE")),
		field.Int("seller_id").
			Annotations(classification.Tag(classification.PublicData)),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.PublicData), entgql.OrderField("CREATED_AT")),
		field.String("ships_from").
			Default(string(classification.Mainland)).
			Validate(classification.ValidRegion).
			Comment("Where the goods ship from (ISO 3166-1 alpha-2): outside CN, buying them is the buyer's own cross-border trade (POLICY.md P4.2).").
			Annotations(classification.Tag(classification.PublicData)),
		field.Time("withdrawn_at").
			Optional().Nillable().
			Comment("When the listing stopped being offered (its seller cancelled the account); it can no longer be ordered or paid for.").
			Annotations(classification.Tag(classification.PublicData)),
	}
}

// Edges of the Listing.
func (Listing) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("seller", User.Type).
			Ref("listings").
			Field("seller_id").
			Unique().Required().
			Annotations(classification.Tag(classification.PublicData)),
	}
}

// Annotations of the Listing.
func (Listing) Annotations() []schema.Annotation {
	return []schema.Annotation{classification.PublicRows("seller_id"), entgql.QueryField(), entgql.RelayConnection()}
}
