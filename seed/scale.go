package seed

import (
	"context"
	"fmt"
	"time"

	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/consent"
	"veil/ent/order"
	"veil/ent/user"
	"veil/idcard"
	"veil/identity"
	"veil/store"
)

// ScaleOptions sizes a scale dataset.
type ScaleOptions struct {
	Users, OrdersPerUser, ActivityPerUser int
	// Progress, when set, is told of each batch: users done of total.
	Progress func(done, total int)
}

// scaleBatch is how many users one batch inserts.
const scaleBatch = 500

// Scale adds o.Users verified adults (phones 150xxxxxxxx), each with
// OrdersPerUser orders from ten sellers' listings and ActivityPerUser
// activity events, in batches of bulk inserts. Users that exist already
// (by phone) are skipped, so it can be run again to grow the dataset.
func Scale(ctx context.Context, c *ent.Client, o ScaleOptions, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: generated data is the system's own writing, not collection.
	var listings []*ent.Listing
	for i := range 10 {
		s, err := EnsureUser(ctx, c, Person{Phone: fmt.Sprintf("1590000%04d", i), Nickname: fmt.Sprintf("seller%d", i)}, now)
		if err != nil {
			return err
		}
		l, err := EnsureListing(ctx, c, s.ID, fmt.Sprintf("scale item %d", i), int64(1000+i*250), now)
		if err != nil {
			return err
		}
		listings = append(listings, l)
	}
	pv := PolicyVersion
	for start := 0; start < o.Users; start += scaleBatch {
		n := min(scaleBatch, o.Users-start)
		phones := make([]string, n)
		for i := range phones {
			phones[i] = fmt.Sprintf("150%08d", start+i)
		}
		existing, err := c.User.Query().Where(user.PhoneIn(phones...)).Count(ctx)
		if err != nil {
			return err
		}
		if existing == n {
			if o.Progress != nil {
				o.Progress(start+n, o.Users)
			}
			continue
		}
		// Encrypted fields are written in a transaction (store.SealRows).
		var created []*ent.User
		err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
			users := make([]*ent.UserCreate, 0, n)
			for i, phone := range phones {
				birth := YearsAgo(now, 20+(start+i)%50, (start+i)%365)
				id := idcard.Make("110105", birth, (start+i)%1000)
				// Generated numbers can repeat (same birth day and sequence);
				// the index must stay unique, so it is taken over number and
				// phone. These accounts can never be matched by number.
				index, err := crypt.BlindIndex(identity.IDNumberIndexDomain, id+"#"+phone)
				if err != nil {
					return err
				}
				users = append(users, tx.User.Create().SetPhone(phone).SetNickname(fmt.Sprintf("user%d", start+i)).
					SetRealName("测试用户").SetIDNumber(id).SetIDNumberIndex(index).
					SetBirthDate(birth.Format(classification.BirthDateLayout)).SetRealNameVerifiedAt(now).SetCreatedAt(now))
			}
			created, err = tx.User.CreateBulk(users...).Save(store.Batch(ctx))
			return err
		})
		if err != nil {
			return fmt.Errorf("scale users %d-%d: %w", start, start+n, err)
		}
		consents := make([]*ent.ConsentCreate, 0, 2*n)
		orders := make([]*ent.OrderCreate, 0, n*o.OrdersPerUser)
		activity := make([]*ent.ActivityLogCreate, 0, n*o.ActivityPerUser)
		for i, u := range created {
			for _, p := range []consent.Purpose{consent.PurposeACCOUNT, consent.PurposeACTIVITY} {
				consents = append(consents, c.Consent.Create().SetUserID(u.ID).SetPurpose(p).SetPolicyVersion(pv).SetGrantedAt(now))
			}
			for j := range o.OrdersPerUser {
				l := listings[(i+j)%len(listings)]
				orders = append(orders, c.Order.Create().SetOrderNo(fmt.Sprintf("SC%08d-%03d", start+i, j)).
					SetAmountFen(l.PriceFen).SetStatus(order.StatusCOMPLETED).SetRecipientPhone(u.Phone).
					SetBuyerID(u.ID).SetSellerID(l.SellerID).SetListingID(l.ID).
					SetCreatedAt(now.AddDate(0, 0, -j)).SetCompletedAt(now.AddDate(0, 0, -j)))
			}
			for j := range o.ActivityPerUser {
				activity = append(activity, c.ActivityLog.Create().SetUserID(u.ID).SetKind(activitylog.KindPAGE_VIEW).
					SetPage("/listing").SetIP("198.51.100.7").SetOccurredAt(now.Add(-time.Duration(j)*time.Minute)))
			}
		}
		for _, err := range []error{
			bulk(ctx, consents, 1000, func(b []*ent.ConsentCreate) error { return c.Consent.CreateBulk(b...).Exec(ctx) }),
			bulk(ctx, orders, 1000, func(b []*ent.OrderCreate) error { return c.Order.CreateBulk(b...).Exec(ctx) }),
			bulk(ctx, activity, 1000, func(b []*ent.ActivityLogCreate) error { return c.ActivityLog.CreateBulk(b...).Exec(ctx) }),
		} {
			if err != nil {
				return err
			}
		}
		if o.Progress != nil {
			o.Progress(start+n, o.Users)
		}
	}
	return nil
}

// bulk inserts items in chunks of size (databases bound a statement's
// parameters).
func bulk[T any](_ context.Context, items []T, size int, insert func([]T) error) error {
	for len(items) > 0 {
		n := min(size, len(items))
		if err := insert(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}
