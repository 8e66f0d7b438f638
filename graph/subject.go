package graph

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	entgo "entgo.io/ent"
	entsql "entgo.io/ent/dialect/sql"

	"veil/classification"
	"veil/collection"
	"veil/ent"
	"veil/ent/order"
	"veil/ent/user"
)

// subjectOf tells the classification engine whom a GraphQL object is about:
// a user is about themself; an order about its buyer, with the seller as
// counterparty; a record with a user_id (ent.OwnerTables) about that user.
// Public-only types (listings, policy versions, SDKs) never need one.
//
// SECURITY: the object itself is never read for these facts. GraphQL
// field collection loads just the columns a query selects, so a subject
// column (a birth date, a buyer, an owner) may be absent from it. The
// facts come from the request's loaders: seeded from rows whose query was
// made to load the subject columns (announceSubjects), otherwise loaded
// by ID, batched, and cached for the request.
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
		s.OrderOpen = parties.open
		return s, err
	}
	key, ok := ownerKeyOf(obj)
	if !ok {
		return classification.Subject{}, fmt.Errorf("graph: no subject rule for %T", obj)
	}
	owner, err := l.owners.Load(ctx, key)
	if err != nil || owner == 0 {
		// An entry about no one (a system-wide audit event) has no subject.
		return classification.Subject{}, err
	}
	return l.people.Load(ctx, owner)
}

// ownerKeyOf says where to look up whom obj is about (collection.
// SubjectColumn); users and orders have loaders of their own.
func ownerKeyOf(obj any) (ownerKey, bool) {
	typ, id, ok := ent.TypeAndID(obj)
	if !ok {
		return ownerKey{}, false
	}
	column := collection.SubjectColumn(typ)
	return ownerKey{table: ent.Tables[typ], column: column, id: id}, column != ""
}

func personOf(u *ent.User, now time.Time) classification.Subject {
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
	open := o.Status != order.StatusCOMPLETED && o.Status != order.StatusCANCELLED
	return parties{buyer: o.BuyerID, seller: o.SellerID, open: open}
}

type ownerKey struct {
	table, column string
	id            int
}

// personFields are the user columns personOf reads; partyFields the order
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
	owners *batchLoader[ownerKey, int]
}

// errNoSubject is returned when an object's row has gone: its fields are
// not served rather than decided for nobody.
var errNoSubject = errors.New("graph: the object's subject could not be found")

func (r *Resolver) newLoaders() *loaders {
	l := &loaders{now: r.now()}
	l.people = newBatchLoader(func(ctx context.Context, ids []int) (map[int]classification.Subject, error) {
		users, err := r.Client.User.Query().Where(user.IDIn(ids...)).Select(personFields...).All(ctx)
		out := make(map[int]classification.Subject, len(users))
		for _, u := range users {
			out[u.ID] = personOf(u, l.now)
		}
		return out, err
	})
	// Records found in one wave are about people who are then looked up
	// together: announce them before the first of them is loaded.
	l.orders = newBatchLoader(func(ctx context.Context, ids []int) (map[int]parties, error) {
		orders, err := r.Client.Order.Query().Where(order.IDIn(ids...)).Select(partyFields...).All(ctx)
		out := make(map[int]parties, len(orders))
		buyers := make([]int, 0, len(orders))
		for _, o := range orders {
			out[o.ID] = partiesOf(o)
			buyers = append(buyers, o.BuyerID)
		}
		l.people.expect(buyers)
		return out, err
	})
	l.owners = newBatchLoader(func(ctx context.Context, keys []ownerKey) (map[ownerKey]int, error) {
		byTable := map[ownerKey][]int{}
		for _, k := range keys {
			t := ownerKey{table: k.table, column: k.column}
			byTable[t] = append(byTable[t], k.id)
		}
		out := make(map[ownerKey]int, len(keys))
		for t, ids := range byTable {
			if err := r.loadOwners(ctx, t, ids, out); err != nil {
				return nil, err
			}
		}
		owners := make([]int, 0, len(out))
		for _, o := range out {
			if o != 0 {
				owners = append(owners, o)
			}
		}
		l.people.expect(owners)
		return out, nil
	})
	return l
}

// loadOwners reads the owner column of ids in a table, with one statement;
// an empty owner reads as 0.
func (r *Resolver) loadOwners(ctx context.Context, t ownerKey, ids []int, out map[ownerKey]int) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	query, qargs := entsql.Dialect(r.Driver.Dialect()).
		Select("id", t.column).From(entsql.Table(t.table)).
		Where(entsql.In("id", args...)).Query()
	rows := &entsql.Rows{}
	if err := r.Driver.Query(ctx, query, qargs, rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var owner sql.NullInt64
		if err := rows.Scan(&id, &owner); err != nil {
			return err
		}
		out[ownerKey{table: t.table, column: t.column, id: id}] = int(owner.Int64)
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

// announceSubjects is an Ent interceptor that makes every User, Order and
// owned record a GraphQL request loads carry the facts of whom it is
// about: it adds the subject columns (subjectFields) to the query's
// projection and seeds the request's loaders from the rows, so a list
// needs no look-up of its own people. Records about someone else (an
// order's buyer) are announced, to be loaded together in one statement.
func announceSubjects() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			l := loadersFrom(ctx)
			if l == nil {
				return next.Query(ctx, q)
			}
			p, _ := q.(projected)
			fields := subjectFields(q)
			if p != nil && loadsEntities(ctx, p) {
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
					l.people.seed(u.ID, personOf(u, l.now))
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
func loadsEntities(ctx context.Context, p projected) bool {
	qc := entgo.QueryFromContext(ctx)
	if qc == nil {
		return false
	}
	switch qc.Op {
	case entgo.OpQueryAll, entgo.OpQueryFirst, entgo.OpQueryOnly:
	default:
		return false
	}
	fields := p.Projection()
	return len(fields) > 0 && fields[0] == "id"
}

// subjectFields are the columns that say whom a record of q's type is
// about: what personOf and partiesOf read, or the owner column.
func subjectFields(q ent.Query) []string {
	switch q.(type) {
	case *ent.UserQuery:
		return personFields
	case *ent.OrderQuery:
		return partyFields
	}
	typ := strings.TrimSuffix(reflect.TypeOf(q).Elem().Name(), "Query")
	if c := collection.SubjectColumn(typ); c != "" && c != "id" {
		return []string{c}
	}
	return nil
}

// announceOwned seeds the owners of a result whose type has one, or,
// when the rows may lack the owner column, announces them to be looked up
// together.
func announceOwned(l *loaders, v ent.Value, complete bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice || rv.Len() == 0 {
		return
	}
	if _, ok := ownerKeyOf(rv.Index(0).Interface()); !ok {
		return
	}
	keys := make([]ownerKey, rv.Len())
	owners := make([]int, 0, rv.Len())
	for i := range keys {
		obj := rv.Index(i).Interface()
		keys[i], _ = ownerKeyOf(obj)
		if !complete {
			continue
		}
		owner, ok := columnInt(obj, keys[i].column)
		if !ok {
			complete = false
			continue
		}
		l.owners.seed(keys[i], owner)
		if owner != 0 {
			owners = append(owners, owner)
		}
	}
	if !complete {
		l.owners.expect(keys)
	}
	l.people.expect(owners)
}

// columnInt reads an int or *int field of a generated entity by its
// column name (a nil pointer reads as 0).
func columnInt(obj any, column string) (int, bool) {
	v := reflect.ValueOf(obj).Elem()
	i, ok := columnIndex(v.Type(), column)
	if !ok {
		return 0, false
	}
	f := v.Field(i)
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return 0, true
		}
		f = f.Elem()
	}
	if f.Kind() != reflect.Int {
		return 0, false
	}
	return int(f.Int()), true
}

var columnIndexes sync.Map // struct type + column -> field index

type columnRef struct {
	t      reflect.Type
	column string
}

// columnIndex finds the struct field Ent generated for a column: its json
// tag names the column.
func columnIndex(t reflect.Type, column string) (int, bool) {
	key := columnRef{t, column}
	if i, ok := columnIndexes.Load(key); ok {
		return i.(int), i.(int) >= 0
	}
	idx := -1
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == column {
			idx = i
			break
		}
	}
	columnIndexes.Store(key, idx)
	return idx, idx >= 0
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
