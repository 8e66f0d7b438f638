package graph

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vikstrous/dataloadgen"

	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/order"
	"veil/ent/user"
)

// subjectOf tells the classification engine whom a GraphQL object is about.
// Every object type with a non-public field must have a case here; the
// schema-driven tests fail for one that does not.
//
// SECURITY: only the object's ID is trusted. GraphQL field collection
// loads just the columns a query selects, so a subject column (a birth
// date, a buyer) may be absent from the object; the facts are loaded by ID
// instead, batched and cached per request.
func (r *Resolver) subjectOf(ctx context.Context, obj any) (classification.Subject, error) {
	l := loadersFrom(ctx)
	if l == nil {
		l = r.newLoaders()
	}
	switch o := obj.(type) {
	case *ent.User:
		return l.people.Load(ctx, o.ID)
	case *ent.Order:
		parties, err := l.orders.Load(ctx, o.ID)
		if err != nil {
			return classification.Subject{}, err
		}
		s, err := l.people.Load(ctx, parties.buyer)
		s.CounterpartyID = parties.seller
		return s, err
	case *ent.Consent:
		owner, err := l.consents.Load(ctx, o.ID)
		if err != nil {
			return classification.Subject{}, err
		}
		return l.people.Load(ctx, owner)
	case *ent.Listing:
		// Listings are public; a listing is about its seller.
		return l.people.Load(ctx, o.SellerID)
	default:
		return classification.Subject{}, fmt.Errorf("graph: no subject rule for %T", obj)
	}
}

func personOf(u *ent.User, now time.Time) classification.Subject {
	s := classification.Subject{UserID: u.ID, AgeGroup: classification.AgeUnknown}
	if u.BirthDate != nil {
		s.AgeGroup = classification.AgeGroupOf(*u.BirthDate, now)
	}
	if u.GuardianID != nil {
		s.GuardianID = *u.GuardianID
	}
	return s
}

type parties struct{ buyer, seller int }

// loaders are one request's batched, cached look-ups of subject facts.
type loaders struct {
	people   *dataloadgen.Loader[int, classification.Subject]
	orders   *dataloadgen.Loader[int, parties]
	consents *dataloadgen.Loader[int, int]
}

// errNoSubject is returned when an object's row has gone: its fields are
// not served rather than decided for nobody.
var errNoSubject = errors.New("graph: the object's subject could not be found")

func (r *Resolver) newLoaders() *loaders {
	now := r.now()
	return &loaders{
		people: newLoader(func(ctx context.Context, ids []int) (map[int]classification.Subject, error) {
			users, err := r.Client.User.Query().Where(user.IDIn(ids...)).
				Select(user.FieldBirthDate, user.FieldGuardianID).All(ctx)
			out := make(map[int]classification.Subject, len(users))
			for _, u := range users {
				out[u.ID] = personOf(u, now)
			}
			return out, err
		}),
		orders: newLoader(func(ctx context.Context, ids []int) (map[int]parties, error) {
			orders, err := r.Client.Order.Query().Where(order.IDIn(ids...)).
				Select(order.FieldBuyerID, order.FieldSellerID).All(ctx)
			out := make(map[int]parties, len(orders))
			for _, o := range orders {
				out[o.ID] = parties{buyer: o.BuyerID, seller: o.SellerID}
			}
			return out, err
		}),
		consents: newLoader(func(ctx context.Context, ids []int) (map[int]int, error) {
			consents, err := r.Client.Consent.Query().Where(consent.IDIn(ids...)).
				Select(consent.FieldUserID).All(ctx)
			out := make(map[int]int, len(consents))
			for _, c := range consents {
				out[c.ID] = c.UserID
			}
			return out, err
		}),
	}
}

// newLoader batches look-ups made within a millisecond of each other (the
// fields of a list resolve concurrently) and reports a missing row as
// errNoSubject.
func newLoader[V any](fetch func(ctx context.Context, ids []int) (map[int]V, error)) *dataloadgen.Loader[int, V] {
	return dataloadgen.NewLoader(func(ctx context.Context, ids []int) ([]V, []error) {
		found, err := fetch(ctx, ids)
		values := make([]V, len(ids))
		errs := make([]error, len(ids))
		for i, id := range ids {
			v, ok := found[id]
			switch {
			case err != nil:
				errs[i] = err
			case !ok:
				errs[i] = errNoSubject
			default:
				values[i] = v
			}
		}
		return values, errs
	}, dataloadgen.WithWait(time.Millisecond))
}

type loadersKey struct{}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// withLoaders gives a request its own subject loaders.
func (r *Resolver) withLoaders(ctx context.Context) context.Context {
	return context.WithValue(ctx, loadersKey{}, r.newLoaders())
}
