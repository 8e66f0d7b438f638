package store

import (
	"context"
	"fmt"
	"slices"
	"sync"

	entsql "entgo.io/ent/dialect/sql"

	"veil/crypt"
	"veil/ent"
)

// SealRows installs the hook that seals every encrypted value a mutation
// writes to its row (crypt.Column): Ent turns a value into its column
// before an insert gives the row its ID, so the value goes in sealed to
// no row, and this hook seals it again, to the row, in the same
// transaction:
//   - a create is inserted, then its encrypted columns are updated;
//   - an update of one row updates its encrypted columns first, and the
//     rest of the mutation goes on without them;
//   - an update of many rows cannot set an encrypted column, and writes
//     outside a transaction cannot either: the value sealed to no row
//     would be left behind if the second statement failed.
//
// Install it after every other hook (app.Open does), so they all see the
// values being written.
func (s *Store) SealRows() {
	s.Client.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			table := ent.Tables[m.Type()]
			var set []string
			for name := range ent.EncryptedColumns[table] {
				if _, ok := m.Field(name); ok {
					set = append(set, name)
				}
			}
			if len(set) == 0 {
				return next.Mutate(ctx, m)
			}
			slices.Sort(set)
			txm, _ := m.(interface{ Tx() (*ent.Tx, error) })
			idm, _ := m.(interface{ ID() (int, bool) })
			if txm == nil || idm == nil {
				return nil, fmt.Errorf("store: %s has encrypted fields but no transaction or ID", m.Type())
			}
			tx, err := txm.Tx()
			if err != nil {
				return nil, fmt.Errorf("store: %s: encrypted fields are written in a transaction", m.Type())
			}
			row := func(id int) sealedRow {
				r := sealedRow{table: table, id: id, columns: set, values: make([]any, len(set))}
				for i, name := range set {
					r.values[i], _ = m.Field(name)
				}
				return r
			}
			seal := func(id int) error { return s.seal(ctx, tx, []sealedRow{row(id)}) }
			switch m.Op() {
			case ent.OpCreate:
				b, _ := ctx.Value(batchKey{}).(*batch)
				if b == nil {
					v, err := next.Mutate(ctx, m)
					if err != nil {
						return v, err
					}
					id, _ := idm.ID()
					return v, seal(id)
				}
				// A bulk create runs the hooks of its rows nested, the
				// first outermost: the rows are sealed together when the
				// first returns.
				b.enter()
				v, err := next.Mutate(ctx, m)
				var r sealedRow
				if err == nil {
					id, _ := idm.ID()
					r = row(id)
				}
				if rows := b.leave(r, err == nil); rows != nil {
					if serr := s.seal(ctx, tx, rows); serr != nil && err == nil {
						err = serr
					}
				}
				return v, err
			case ent.OpUpdateOne:
				id, ok := idm.ID()
				if !ok {
					return nil, fmt.Errorf("store: %s: an update of one row without its ID", m.Type())
				}
				// The fields leave the mutation before Ent would check
				// them: they are checked here.
				for _, name := range set {
					if check := ent.EncryptedValidators[m.Type()+"."+name]; check != nil {
						v, _ := m.Field(name)
						if err := check(v); err != nil {
							return nil, err
						}
					}
				}
				if err := seal(id); err != nil {
					return nil, err
				}
				for _, name := range set {
					if err := m.ResetField(name); err != nil {
						return nil, err
					}
				}
				return next.Mutate(ctx, m)
			}
			return nil, fmt.Errorf("store: %s: encrypted fields are updated one row at a time", m.Type())
		})
	})
}

// Batch returns ctx under which the encrypted rows a bulk create makes are
// sealed to their rows in one statement per table, instead of one per row.
// A batch serves one goroutine's writes, in one transaction.
func Batch(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchKey{}, &batch{})
}

type batchKey struct{}

type batch struct {
	mu    sync.Mutex
	depth int
	rows  []sealedRow
	ok    bool
}

func (b *batch) enter() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.depth == 0 {
		b.rows, b.ok = nil, true
	}
	b.depth++
}

// leave records a row created (ok) or failed, and returns the rows to
// seal once the outermost create returns, if none failed.
func (b *batch) leave(r sealedRow, ok bool) []sealedRow {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.depth--
	if ok {
		b.rows = append(b.rows, r)
	}
	b.ok = b.ok && ok
	if b.depth > 0 || !b.ok {
		return nil
	}
	rows := b.rows
	b.rows = nil
	return rows
}

// sealedRow is what a row's encrypted columns are to hold, in the clear.
type sealedRow struct {
	table   string
	id      int
	columns []string
	values  []any
}

// maxSealedRows bounds the rows one statement seals (and so its
// parameters: two per row and column, and one per row).
const maxSealedRows = 250

// seal writes the values of rows, sealed to their rows, through tx: one
// UPDATE for up to maxSealedRows rows of a table with the same columns,
// each column set by a CASE on the row's ID.
func (s *Store) seal(ctx context.Context, tx *ent.Tx, rows []sealedRow) error {
	k := crypt.Active()
	if k == nil {
		return crypt.ErrNoKeyring
	}
	for len(rows) > 0 {
		n := 1
		for n < len(rows) && n < maxSealedRows && rows[n].table == rows[0].table && slices.Equal(rows[n].columns, rows[0].columns) {
			n++
		}
		group := rows[:n]
		rows = rows[n:]
		table, ids := group[0].table, make([]any, n)
		sealed := make([][]string, n)
		for i, r := range group {
			ids[i] = r.id
			sealed[i] = make([]string, len(r.columns))
			for j, name := range r.columns {
				v, err := k.SealValue(table+"."+name, int64(r.id), r.values[j])
				if err != nil {
					return err
				}
				sealed[i][j] = v
			}
		}
		update := entsql.Dialect(s.Dialect).Update(table)
		for j, name := range group[0].columns {
			if n == 1 {
				update.Set(name, sealed[0][j])
				continue
			}
			update.Set(name, entsql.P(func(b *entsql.Builder) {
				b.WriteString("CASE ").Ident("id")
				for i := range group {
					b.WriteString(" WHEN ").Arg(ids[i]).WriteString(" THEN ").Arg(sealed[i][j])
				}
				b.WriteString(" END")
			}))
		}
		query, args := update.Where(entsql.In("id", ids...)).Query()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err == nil && got != int64(n) {
			return fmt.Errorf("store: sealing %d rows of %s updated %d", n, table, got)
		}
	}
	return nil
}
