package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

// loaders are one request's cached look-ups of subject facts.
type loaders struct {
	people   *batchLoader[classification.Subject]
	orders   *batchLoader[parties]
	consents *batchLoader[int]
}

// errNoSubject is returned when an object's row has gone: its fields are
// not served rather than decided for nobody.
var errNoSubject = errors.New("graph: the object's subject could not be found")

func (r *Resolver) newLoaders() *loaders {
	now := r.now()
	return &loaders{
		people: newBatchLoader(func(ctx context.Context, ids []int) (map[int]classification.Subject, error) {
			users, err := r.Client.User.Query().Where(user.IDIn(ids...)).
				Select(user.FieldBirthDate, user.FieldGuardianID).All(ctx)
			out := make(map[int]classification.Subject, len(users))
			for _, u := range users {
				out[u.ID] = personOf(u, now)
			}
			return out, err
		}),
		orders: newBatchLoader(func(ctx context.Context, ids []int) (map[int]parties, error) {
			orders, err := r.Client.Order.Query().Where(order.IDIn(ids...)).
				Select(order.FieldBuyerID, order.FieldSellerID).All(ctx)
			out := make(map[int]parties, len(orders))
			for _, o := range orders {
				out[o.ID] = parties{buyer: o.BuyerID, seller: o.SellerID}
			}
			return out, err
		}),
		consents: newBatchLoader(func(ctx context.Context, ids []int) (map[int]int, error) {
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

// batchLoader loads facts by ID with one statement per wave of objects:
// every object a query returns is announced with expect (see
// announceSubjects), and the first Load fetches all announced IDs at once.
// Batching is thus decided by what was loaded, not by timing.
type batchLoader[V any] struct {
	fetch   func(ctx context.Context, ids []int) (map[int]V, error)
	mu      sync.Mutex
	cache   map[int]V
	pending map[int]struct{}
}

func newBatchLoader[V any](fetch func(ctx context.Context, ids []int) (map[int]V, error)) *batchLoader[V] {
	return &batchLoader[V]{fetch: fetch, cache: map[int]V{}, pending: map[int]struct{}{}}
}

func (l *batchLoader[V]) expect(ids []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if _, ok := l.cache[id]; !ok {
			l.pending[id] = struct{}{}
		}
	}
}

// Load returns the facts for id, fetching every pending ID with it.
func (l *batchLoader[V]) Load(ctx context.Context, id int) (V, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.cache[id]; ok {
		return v, nil
	}
	ids := make([]int, 0, len(l.pending)+1)
	ids = append(ids, id)
	for p := range l.pending {
		if p != id {
			ids = append(ids, p)
		}
	}
	clear(l.pending)
	// The fetch's own results are not announced again.
	found, err := l.fetch(context.WithValue(ctx, loadersKey{}, (*loaders)(nil)), ids)
	if err != nil {
		var zero V
		return zero, err
	}
	for k, v := range found {
		l.cache[k] = v
	}
	v, ok := found[id]
	if !ok {
		return v, errNoSubject
	}
	return v, nil
}

// announceSubjects is an Ent interceptor that tells the request's loaders
// about every User, Order and Consent a query returns, so that their
// subject facts load in one statement per query, whatever the list size.
func announceSubjects() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			l := loadersFrom(ctx)
			if err != nil || l == nil {
				return v, err
			}
			switch rows := v.(type) {
			case []*ent.User:
				l.people.expect(ids(rows, func(u *ent.User) int { return u.ID }))
			case []*ent.Order:
				l.orders.expect(ids(rows, func(o *ent.Order) int { return o.ID }))
			case []*ent.Consent:
				l.consents.expect(ids(rows, func(c *ent.Consent) int { return c.ID }))
			}
			return v, err
		})
	})
}

func ids[T any](rows []T, id func(T) int) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
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
