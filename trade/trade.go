// Package trade places, pays and completes orders (POLICY.md P1.5). Who
// may trade at all (real name, 18+) is checked before these run, by the
// @access(level: TRADING) rule.
package trade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/order"
	"veil/ent/user"
	"veil/fault"
	"veil/sharing"
	"veil/store"
)

// CreateOrderInput is the GraphQL input CreateOrderInput.
type CreateOrderInput struct {
	ListingID      int    `json:"listingId"`
	RecipientPhone string `json:"recipientPhone"`
}

// CreateOrder orders a listing for buyerID.
func CreateOrder(ctx context.Context, c *ent.Client, buyerID int, in CreateOrderInput, now time.Time) (*ent.Order, error) {
	var v check.Checker
	phone := v.Phone("input.recipientPhone", in.RecipientPhone)
	if err := v.Err(); err != nil {
		return nil, err
	}
	l, err := c.Listing.Get(ctx, in.ListingID)
	if ent.IsNotFound(err) {
		return nil, fault.Invalid("input.listingId", "no such listing")
	}
	if err != nil {
		return nil, err
	}
	if l.SellerID == buyerID {
		return nil, fault.Invalid("input.listingId", "you cannot buy your own listing")
	}
	if err := offered(ctx, c, l); err != nil {
		return nil, fault.Invalid("input.listingId", err.Error())
	}
	no, err := orderNumber(now)
	if err != nil {
		return nil, err
	}
	return c.Order.Create().
		SetOrderNo(no).
		SetAmountFen(l.PriceFen).
		SetRecipientPhone(phone).
		SetBuyerID(buyerID).
		SetSellerID(l.SellerID).
		SetListingID(l.ID).
		SetCreatedAt(now).
		Save(ctx)
}

// PayOrder marks buyerID's order paid and shares its recipient phone and
// transaction with the seller, recording the sharing, in one transaction.
func PayOrder(ctx context.Context, c *ent.Client, buyerID, orderID int, now time.Time) (*ent.Order, error) {
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		o, err := ownOrder(ctx, tx.Client(), buyerID, orderID)
		if err != nil {
			return err
		}
		if o.Status != order.StatusCREATED {
			return fault.Invalid("orderId", "only a new order can be paid")
		}
		l, err := tx.Listing.Get(ctx, o.ListingID)
		if err != nil {
			return err
		}
		if err := offered(ctx, tx.Client(), l); err != nil {
			// Paying would share the buyer's phone with a cancelled account.
			return fault.Invalid("orderId", err.Error())
		}
		// The status moves first, on a condition: a concurrent payment
		// waits on the row and then finds it paid, so it shares nothing.
		if err := advance(ctx, tx, o.ID, order.StatusCREATED, "only a new order can be paid", func(u *ent.OrderUpdate) {
			u.SetStatus(order.StatusPAID)
		}); err != nil {
			return err
		}
		return RecordSharing(ctx, tx.Client(), o, now)
	})
	if err != nil {
		return nil, err
	}
	// Read again outside the transaction: the answer's edges load later.
	return c.Order.Get(ctx, orderID)
}

// advance moves order id on from status from in tx, with set, if it still
// has that status; otherwise it is VALIDATION_FAILED with why. The update
// takes the row's lock, so of concurrent requests only one moves it.
func advance(ctx context.Context, tx *ent.Tx, id int, from order.Status, why string, set func(*ent.OrderUpdate)) error {
	u := tx.Order.Update().Where(order.ID(id), order.StatusEQ(from))
	set(u)
	// SECURITY: a conditional update is a bulk one, which the privacy
	// layer runs only as the system; the caller has loaded the order as
	// its buyer's or seller's, and sets transaction fields only.
	n, err := u.Save(classification.AsSystem(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return fault.Invalid("orderId", why)
	}
	return nil
}

// RecordSharing discloses to the seller, for paying order o, the buyer's
// recipient phone and the transaction, to deliver it (a contract basis:
// POLICY.md P1.5, P1.12), through sharing.Disclose: a seller abroad
// receives them as the buyer's own cross-border trade.
func RecordSharing(ctx context.Context, c *ent.Client, o *ent.Order, now time.Time) error {
	l, err := c.Listing.Get(ctx, o.ListingID)
	if err != nil {
		return err
	}
	from := classification.Region(l.ShipsFrom)
	return sharing.Disclose(ctx, c, sharing.Disclosure{
		To: sharing.Seller, Party: fmt.Sprintf("user:%d", o.SellerID), Region: from,
		Subject: o.BuyerID, Classes: []*classification.Class{classification.OrderContact, classification.Transaction},
		OrderID: o.ID, OwnCrossBorderTrade: !from.InMainland(),
	}, now)
}

// ShipOrder marks sellerID's paid order shipped with carrier, a declared
// courier, and discloses the buyer's recipient phone to it, in one
// transaction. A courier outside mainland China needs the buyer's
// CROSS_BORDER consent unless the goods ship from abroad (POLICY.md P4.2);
// without it nothing changes and the seller is told to choose another.
func ShipOrder(ctx context.Context, c *ent.Client, sellerID, orderID int, carrier string, now time.Time) (*ent.Order, error) {
	to, err := sharing.Carrier("carrier", carrier)
	if err != nil {
		return nil, err
	}
	err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
		o, err := tx.Order.Query().Where(order.ID(orderID), order.SellerID(sellerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return fault.Invalid("orderId", "no such order sold by you")
		}
		if err != nil {
			return err
		}
		if err := advance(ctx, tx, o.ID, order.StatusPAID, "only a paid order can be shipped", func(u *ent.OrderUpdate) {
			u.SetStatus(order.StatusSHIPPED).SetCarrier(to.Name).SetShippedAt(now)
		}); err != nil {
			return err
		}
		l, err := tx.Listing.Get(ctx, o.ListingID)
		if err != nil {
			return err
		}
		if err := sharing.Disclose(ctx, tx.Client(), sharing.Disclosure{
			To: to, Subject: o.BuyerID, Classes: []*classification.Class{classification.OrderContact},
			OrderID: o.ID, OwnCrossBorderTrade: !classification.Region(l.ShipsFrom).InMainland(),
		}, now); err != nil {
			var f *fault.Error
			if errors.As(err, &f) && (f.Code == fault.ConsentRequired || f.Code == fault.GuardianConsentRequired) {
				// The buyer's consent is theirs to give: the seller is told
				// what is missing and what to do instead.
				return &fault.Error{Code: f.Code, Purpose: f.Purpose,
					Message: "the buyer has not consented to " + f.Purpose + " for " + to.Name + "; ship with a courier in mainland China"}
			}
			if errors.Is(err, sharing.ErrSubjectCancelled) {
				return fault.Invalid("orderId", "the buyer has cancelled their account: the order cannot be shipped")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c.Order.Get(ctx, orderID)
}

// CompleteOrder confirms receipt of a paid or shipped order.
func CompleteOrder(ctx context.Context, c *ent.Client, buyerID, orderID int, now time.Time) (*ent.Order, error) {
	o, err := ownOrder(ctx, c, buyerID, orderID)
	if err != nil {
		return nil, err
	}
	// SECURITY: see advance; ownOrder loaded the order as its buyer's.
	n, err := c.Order.Update().Where(order.ID(o.ID), order.StatusIn(order.StatusPAID, order.StatusSHIPPED)).
		SetStatus(order.StatusCOMPLETED).SetCompletedAt(now).Save(classification.AsSystem(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, fault.Invalid("orderId", "only a paid or shipped order can be completed")
	}
	return c.Order.Get(ctx, o.ID)
}

// ownOrder loads an order of buyerID; another user's order reads as
// missing, so its existence is not revealed.
func ownOrder(ctx context.Context, c *ent.Client, buyerID, orderID int) (*ent.Order, error) {
	o, err := c.Order.Query().Where(order.ID(orderID), order.BuyerID(buyerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.Invalid("orderId", "no such order of yours")
	}
	return o, err
}

func orderNumber(now time.Time) (string, error) {
	buf := make([]byte, 5)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return now.Format("20060102") + strings.ToUpper(hex.EncodeToString(buf)), nil
}

// errWithdrawn is why an order on a withdrawn listing is refused.
var errWithdrawn = errors.New("this listing is no longer offered: its seller has left")

// offered reports errWithdrawn for a listing that is withdrawn, or whose
// seller's account is cancelled (listings are withdrawn with it, in the
// same transaction; this also covers rows from before that rule).
func offered(ctx context.Context, c *ent.Client, l *ent.Listing) error {
	if l.WithdrawnAt != nil {
		return errWithdrawn
	}
	seller, err := c.User.Get(ctx, l.SellerID)
	if err != nil {
		return err
	}
	if seller.Status == user.StatusCANCELLED {
		return errWithdrawn
	}
	return nil
}
