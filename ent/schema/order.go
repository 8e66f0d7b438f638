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

// Order is a purchase of a listing. Its subject is the buyer; the seller is
// its counterparty (POLICY.md P1.5).
type Order struct {
	ent.Schema
}

// Fields of the Order.
func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.String("order_no").
			NotEmpty().
			Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		field.Int64("amount_fen").
			NonNegative().
			Comment("Amount in fen (0.01 CNY).").
			Annotations(classification.Tag(classification.Transaction)),
		field.Enum("status").
			Values("CREATED", "PAID", "SHIPPED", "COMPLETED", "CANCELLED").
			Default("CREATED").
			Annotations(classification.Tag(classification.Transaction), entgql.Type("OrderStatus")),
		field.String("recipient_phone").
			NotEmpty().
			Comment("Shared with the seller for delivery.").
			Annotations(classification.Tag(classification.OrderContact)),
		field.Int("buyer_id").
			Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		field.Int("seller_id").
			Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		field.Int("listing_id").
			Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		field.String("carrier").
			Optional().Nillable().
			Comment("The courier the seller shipped with: a declared recipient (sharing.Carrier).").
			Annotations(classification.Tag(classification.Transaction)),
		field.Time("shipped_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Transaction)),
		field.Time("completed_at").
			Optional().Nillable().
			Annotations(classification.Tag(classification.Transaction)),
	}
}

// Edges of the Order.
func (Order) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("buyer", User.Type).
			Ref("orders").
			Field("buyer_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		edge.To("seller", User.Type).
			Field("seller_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Transaction)),
		edge.To("listing", Listing.Type).
			Field("listing_id").
			Unique().Required().Immutable().
			Annotations(classification.Tag(classification.Transaction)),
	}
}

// Indexes of the Order.
func (Order) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("order_no").Unique(),
		index.Fields("buyer_id"),
		index.Fields("seller_id"),
	}
}

// Annotations of the Order.
func (Order) Annotations() []schema.Annotation {
	return []schema.Annotation{
		classification.About("buyer_id").WithCounterparty("seller_id").DeletedAs("ORDERS").
			KeptAfterCancel("E-commerce Law art. 31: goods, service and transaction records are kept 3 years after the transaction completes (POLICY.md P4.1), under legal hold"),
		entgql.RelayConnection(),
	}
}
