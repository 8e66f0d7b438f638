package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"veil/classification"
	"veil/ent"
	"veil/ent/intercept"
	"veil/ent/order"
	"veil/ent/user"
)

// SubjectOf tells the classification engine whom a GraphQL object is
// about, from the record declarations of ent/schema: a person is about
// themself; a row about someone is about the user its subject column
// names, with the counterparty its counterparty column names (an order's
// seller), and an order is open while it is being fulfilled: from its
// payment (when its recipient phone is shared with the seller) until it
// completes or is cancelled.
// Public rows are about no one and never need a subject.
//
// SECURITY: the object itself is never read for these facts. GraphQL
// field collection loads just the columns a query selects, so a subject
// column (a birth date, a buyer, an owner) may be absent from it. The
// facts come from the request's loaders: seeded from rows whose query was
// made to load the subject columns (announceSubjects), otherwise loaded
// by ID, batched, and cached for the request.
func SubjectOf(ctx context.Context, obj any) (classification.Subject, error) {
	l := loadersFrom(ctx)
	if l == nil {
		return classification.Subject{}, errNoLoaders
	}
	typ, id, _, _, ok := ent.SubjectOf(obj)
	if !ok {
		return classification.Subject{}, fmt.Errorf("privacy: no record declaration for %T", obj)
	}
	rec := ent.Records[typ]
	switch {
	case rec.Rows == classification.RowsPerson:
		return l.people.Load(ctx, id)
	case rec.Rows != classification.RowsAbout:
		return classification.Subject{}, nil
	case typ == orderType:
		parties, err := l.orders.Load(ctx, id)
		if err != nil {
			return classification.Subject{}, err
		}
		s, err := l.people.Load(ctx, parties.buyer)
		s.CounterpartyID = parties.seller
		s.OrderOpen = parties.open
		return s, err
	}
	owner, err := l.owners.Load(ctx, ownerKey{typ: typ, id: id})
	if err != nil || owner.subject == 0 {
		// An entry about no one (a system-wide audit event) has no subject.
		return classification.Subject{}, err
	}
	s, err := l.people.Load(ctx, owner.subject)
	s.CounterpartyID = owner.counterparty
	return s, err
}

// orderType is the one type whose counterparty sees what it shares only
// while it is open: its status is a subject fact too.
const orderType = "Order"

// errNoLoaders is returned outside a request that has subject loaders:
// fields are not served rather than decided for nobody.
var errNoLoaders = errors.New("privacy: no subject loaders in this context (see WithSubjects)")

// PersonOf returns the subject facts of a user row, on day now.
func PersonOf(u *ent.User, now time.Time) classification.Subject {
	s := classification.Subject{UserID: u.ID, AgeGroup: classification.AgeUnknown}
	if u.BirthDate != nil {
		s.AgeGroup = classification.AgeGroupOf(*u.BirthDate, now)
	}
	if u.GuardianID != nil {
		s.GuardianID = *u.GuardianID
	}
	s.Restricted = u.Status == user.StatusCANCELLED
	return s
}

type parties struct {
	buyer, seller int
	open          bool
}

func partiesOf(o *ent.Order) parties {
	open := o.Status == order.StatusPAID || o.Status == order.StatusSHIPPED
	return parties{buyer: o.BuyerID, seller: o.SellerID, open: open}
}

type ownerKey struct {
	typ string
	id  int
}

// owner is whom a row is about, and its counterparty.
type owner struct{ subject, counterparty int }

// personFields are the user columns PersonOf reads; partyFields the order
// columns partiesOf reads.
var (
	personFields = []string{user.FieldBirthDate, user.FieldGuardianID, user.FieldStatus}
	partyFields  = []string{order.FieldBuyerID, order.FieldSellerID, order.FieldStatus}
)

// loaders are one request's cached look-ups of subject facts, with the
// request's time, at which ages are worked out.
type loaders struct {
	now    time.Time
	people *batchLoader[int, classification.Subject]
	orders *batchLoader[int, parties]
	owners *batchLoader[ownerKey, owner]
}

// errNoSubject is returned when an object's row has gone: its fields are
// not served rather than decided for nobody.
var errNoSubject = errors.New("graph: the object's subject could not be found")

func newLoaders(client *ent.Client, now time.Time) *loaders {
	l := &loaders{now: now}
	// SECURITY: the facts that decide what a viewer sees are read as the
	// system: no row rule may hide whom a row is about.
	l.people = newBatchLoader(func(ctx context.Context, ids []int) (map[int]classification.Subject, error) {
		users, err := client.User.Query().Where(user.IDIn(ids...)).Select(personFields...).All(classification.AsSystem(ctx))
		out := make(map[int]classification.Subject, len(users))
		for _, u := range users {
			out[u.ID] = PersonOf(u, l.now)
		}
		return out, err
	})
	// Records found in one wave are about people who are then looked up
	// together: announce them before the first of them is loaded.
	l.orders = newBatchLoader(func(ctx context.Context, ids []int) (map[int]parties, error) {
		orders, err := client.Order.Query().Where(order.IDIn(ids...)).Select(partyFields...).All(classification.AsSystem(ctx))
		out := make(map[int]parties, len(orders))
		buyers := make([]int, 0, len(orders))
		for _, o := range orders {
			out[o.ID] = partiesOf(o)
			buyers = append(buyers, o.BuyerID)
		}
		l.people.expect(buyers)
		return out, err
	})
	l.owners = newBatchLoader(func(ctx context.Context, keys []ownerKey) (map[ownerKey]owner, error) {
		byType := map[string][]int{}
		for _, k := range keys {
			byType[k.typ] = append(byType[k.typ], k.id)
		}
		out := make(map[ownerKey]owner, len(keys))
		for typ, ids := range byType {
			if err := loadOwners(ctx, client.Driver(), typ, ids, out); err != nil {
				return nil, err
			}
		}
		people := make([]int, 0, len(out))
		for _, o := range out {
			if o.subject != 0 {
				people = append(people, o.subject)
			}
		}
		l.people.expect(people)
		return out, nil
	})
	return l
}

// loadOwners reads the subject and counterparty columns of ids in typ's
// table, with one statement; an empty column reads as 0.
func loadOwners(ctx context.Context, drv dialect.Driver, typ string, ids []int, out map[ownerKey]owner) error {
	rec := ent.Records[typ]
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	columns := []string{"id", rec.Subject}
	if rec.Counterparty != "" {
		columns = append(columns, rec.Counterparty)
	}
	query, qargs := entsql.Dialect(drv.Dialect()).
		Select(columns...).From(entsql.Table(ent.Tables[typ])).
		Where(entsql.In("id", args...)).Query()
	rows := &entsql.Rows{}
	if err := drv.Query(ctx, query, qargs, rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var subject, counterparty sql.NullInt64
		dest := []any{&id, &subject}
		if rec.Counterparty != "" {
			dest = append(dest, &counterparty)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		out[ownerKey{typ: typ, id: id}] = owner{subject: int(subject.Int64), counterparty: int(counterparty.Int64)}
	}
	return rows.Err()
}

// batchLoader loads facts by ID with one statement per wave of objects:
// every object a query returns is announced with expect (see
// announceSubjects), and the first Load fetches all announced IDs at once.
// Batching is thus decided by what was loaded, not by timing.
type batchLoader[K comparable, V any] struct {
	fetch   func(ctx context.Context, keys []K) (map[K]V, error)
	mu      sync.Mutex
	cache   map[K]V
	pending map[K]struct{}
}

func newBatchLoader[K comparable, V any](fetch func(ctx context.Context, keys []K) (map[K]V, error)) *batchLoader[K, V] {
	return &batchLoader[K, V]{fetch: fetch, cache: map[K]V{}, pending: map[K]struct{}{}}
}

func (l *batchLoader[K, V]) expect(ids []K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if _, ok := l.cache[id]; !ok {
			l.pending[id] = struct{}{}
		}
	}
}

// seed caches facts read elsewhere (from the rows a query loaded).
func (l *batchLoader[K, V]) seed(id K, v V) {
	l.mu.Lock()
	l.cache[id] = v
	delete(l.pending, id)
	l.mu.Unlock()
}

// forget drops every cached fact.
func (l *batchLoader[K, V]) forget() {
	l.mu.Lock()
	clear(l.cache)
	l.mu.Unlock()
}

// Load returns the facts for id, fetching every pending ID with it.
func (l *batchLoader[K, V]) Load(ctx context.Context, id K) (V, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.cache[id]; ok {
		return v, nil
	}
	ids := make([]K, 0, len(l.pending)+1)
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

// announceSubjects is an Ent interceptor that makes every row a GraphQL
// request loads carry the facts of whom it is about: it adds the subject
// columns (subjectFields) to the query's projection and seeds the
// request's loaders from the rows, so a list needs no look-up of its own
// people. Rows about someone else (an order's buyer) are announced, to be
// loaded together in one statement.
func announceSubjects() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			l := loadersFrom(ctx)
			qc := entgo.QueryFromContext(ctx)
			iq, err := intercept.NewQuery(q)
			if l == nil || qc == nil || err != nil {
				return next.Query(ctx, q)
			}
			// The type is the query's own: an eager-loaded edge runs under
			// the context of the query that loads it.
			p, _ := q.(projected)
			fields := subjectFields(iq.Type())
			if p != nil && loadsEntities(qc, p) {
				p.SelectAlso(fields...)
			}
			// Seed only from rows known to hold the subject columns, and
			// committed: a transaction's rows may yet be rolled back, so
			// its records are looked up by ID when a field is decided.
			complete := p != nil && !p.InTransaction() && hasAll(p.Projection(), fields)
			v, err := next.Query(ctx, q)
			if err != nil {
				return v, err
			}
			switch rows := v.(type) {
			case []*ent.User:
				if !complete {
					l.people.expect(ids(rows, func(u *ent.User) int { return u.ID }))
					break
				}
				for _, u := range rows {
					l.people.seed(u.ID, PersonOf(u, l.now))
				}
			case []*ent.Order:
				if !complete {
					l.orders.expect(ids(rows, func(o *ent.Order) int { return o.ID }))
					break
				}
				for _, o := range rows {
					l.orders.seed(o.ID, partiesOf(o))
				}
				l.people.expect(ids(rows, func(o *ent.Order) int { return o.BuyerID }))
			default:
				announceOwned(l, v, complete)
			}
			return v, err
		})
	})
}

// hasAll reports whether a projection holds every field; an empty
// projection loads them all.
func hasAll(projection, fields []string) bool {
	if len(projection) == 0 {
		return true
	}
	for _, f := range fields {
		if !slices.Contains(projection, f) {
			return false
		}
	}
	return true
}

// forgetSubjectsOnWrite is an Ent hook: a write in a request (a mutation
// linking a guardian, correcting a birth date, cancelling an account)
// makes the subject facts it has cached stale, so they are dropped and
// read again.
func forgetSubjectsOnWrite(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		v, err := next.Mutate(ctx, m)
		if l := loadersFrom(ctx); l != nil {
			l.people.forget()
			l.orders.forget()
			l.owners.forget()
		}
		return v, err
	})
}

// projected is a generated query that can widen its projection.
type projected interface {
	ent.Query
	SelectAlso(fields ...string)
	Projection() []string
	InTransaction() bool
}

// loadsEntities reports whether a query is about to load whole records
// (All, First, Only) under a projection that starts with the ID, as field
// collection and eager loading build them. A GroupBy or a Select scan
// into other values projects to other columns and is left alone: widening
// it would change what it groups by or scans.
func loadsEntities(qc *entgo.QueryContext, p projected) bool {
	switch qc.Op {
	case entgo.OpQueryAll, entgo.OpQueryFirst, entgo.OpQueryOnly:
	default:
		return false
	}
	fields := p.Projection()
	return len(fields) > 0 && fields[0] == "id"
}

// subjectFields are the columns that say whom a row of type typ is
// about: what PersonOf and partiesOf read, or the subject and
// counterparty columns its record declares.
func subjectFields(typ string) []string {
	rec := ent.Records[typ]
	switch {
	case rec.Rows == classification.RowsPerson:
		return personFields
	case typ == orderType:
		return partyFields
	case rec.Rows != classification.RowsAbout:
		return nil
	case rec.Counterparty != "":
		return []string{rec.Subject, rec.Counterparty}
	}
	return []string{rec.Subject}
}

// announceOwned seeds whom the rows of a result are about, when the rows
// hold their subject columns, or else announces them to be looked up
// together.
func announceOwned(l *loaders, v ent.Value, complete bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice || rv.Len() == 0 {
		return
	}
	people := make([]int, 0, rv.Len())
	var keys []ownerKey
	for i := range rv.Len() {
		typ, id, subject, counterparty, ok := ent.SubjectOf(rv.Index(i).Interface())
		if !ok || ent.Records[typ].Rows != classification.RowsAbout {
			return
		}
		key := ownerKey{typ: typ, id: id}
		if !complete {
			keys = append(keys, key)
			continue
		}
		l.owners.seed(key, owner{subject: subject, counterparty: counterparty})
		if subject != 0 {
			people = append(people, subject)
		}
	}
	l.owners.expect(keys)
	l.people.expect(people)
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

// WithSubjects gives a request its own subject loaders, which read from
// client and work out ages on day now. Without them, the enforcer serves
// no field that needs a subject.
func WithSubjects(ctx context.Context, client *ent.Client, now time.Time) context.Context {
	return context.WithValue(ctx, loadersKey{}, newLoaders(client, now))
}
