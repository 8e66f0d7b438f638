package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	entsql "entgo.io/ent/dialect/sql"

	"veil/crypt"
	"veil/ent"
)

// RotateOptions configures RotateKeys.
type RotateOptions struct {
	// Batch is how many values one transaction re-seals.
	Batch int
	// MaxBatches stops after this many batches (0: no limit), as an
	// interrupted run would; a later run carries on.
	MaxBatches int
	// Progress, when set, is told of each batch: values done of total.
	Progress func(done, total int)
	// SealUnbound also seals the values not sealed to their row (see
	// Unbound): the operator's decision, once, after upgrading a database
	// from before rows were bound. Without it they are left as they are
	// and reported: sealing them by routine would make a value planted in
	// the database authentic.
	SealUnbound bool
	// Left, when set, is told of each value left as it is: one that does
	// not open (tampered, or under a key the keyring lacks), or an unbound
	// one without SealUnbound. The run goes on past them.
	Left func(column string, row int, err error)
}

// ErrStopped is returned when RotateKeys stops at MaxBatches.
var ErrStopped = errors.New("store: key rotation stopped before the end; run it again to finish")

// LeftError is returned by a run that left values as they were.
type LeftError struct{ N int }

func (e *LeftError) Error() string {
	return fmt.Sprintf("store: key rotation left %d values as they were (see each above): they are refused on read", e.N)
}

// RotateKeys re-seals, under the keyring's current key and to its row,
// every encrypted value sealed to its row under an older key, and with
// SealUnbound the values not sealed to their row too: column by column in
// batches of rows, each in its own transaction, each row visited once. A
// value changed since it was read is left for the next run, never
// overwritten; a value that does not open is left and reported (a
// *LeftError at the end). Interrupted, it resumes where it stopped: what
// is done is under the current key, the rest as it was, and every value
// sealed to its row stays readable throughout, to every process whose
// keyring holds both keys (crypt.ReloadFrom).
func (s *Store) RotateKeys(ctx context.Context, k *crypt.Keyring, opts RotateOptions) (int, error) {
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	columns := encryptedColumns()
	current := crypt.Prefix + k.Current + ":"
	stale := func(c column) *entsql.Selector {
		sel := s.notPrefixed(c, current)
		if !opts.SealUnbound {
			sel.Where(prefixed(c.name, crypt.Prefix))
		}
		return sel
	}
	total := 0
	for _, c := range columns {
		n, err := s.count(ctx, c, stale(c))
		if err != nil {
			return 0, err
		}
		total += n
	}
	// visited counts the values of the run, done or left; left, every
	// value left, unbound ones included.
	done, batches, visited, left := 0, 0, 0, 0
	leave := func(c column, id int, err error) {
		left++
		if opts.Left != nil {
			opts.Left(c.table+"."+c.name, id, err)
		}
	}
	if !opts.SealUnbound {
		unbound, err := s.Unbound(ctx)
		if err != nil {
			return 0, err
		}
		for _, c := range columns {
			if n := unbound[c.table+"."+c.name]; n > 0 {
				left += n
				if opts.Left != nil {
					opts.Left(c.table+"."+c.name, 0, fmt.Errorf("%d values not sealed to their row, left as they are: seal them (-seal-unbound) only after upgrading a database from before rows were bound", n))
				}
			}
		}
	}
	for _, c := range columns {
		aad := c.table + "." + c.name
		last := 0
		for {
			if opts.MaxBatches > 0 && batches >= opts.MaxBatches {
				return done, ErrStopped
			}
			q, args := stale(c).Where(entsql.GT("id", last)).Select("id", c.name).OrderBy("id").Limit(opts.Batch).Query()
			rows, err := s.DB.QueryContext(ctx, q, args...)
			if err != nil {
				return done, err
			}
			type value struct {
				id  int
				old string
			}
			var page []value
			for rows.Next() {
				var v value
				if err := rows.Scan(&v.id, &v.old); err != nil {
					rows.Close()
					return done, err
				}
				page = append(page, v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return done, err
			}
			if len(page) == 0 {
				break
			}
			last = page[len(page)-1].id
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				return done, err
			}
			sealed := 0
			for _, v := range page {
				plain, err := k.OpenAny(aad, int64(v.id), v.old)
				if err != nil {
					leave(c, v.id, err)
					continue
				}
				value, err := k.Seal(aad, int64(v.id), plain)
				if err != nil {
					tx.Rollback()
					return done, err
				}
				uq, uargs := entsql.Dialect(s.Dialect).Update(c.table).Set(c.name, value).
					Where(entsql.And(entsql.EQ("id", v.id), entsql.EQ(c.name, v.old))).Query()
				res, err := tx.ExecContext(ctx, uq, uargs...)
				if err != nil {
					tx.Rollback()
					return done, err
				}
				if n, err := res.RowsAffected(); err == nil && n == 1 {
					sealed++
				} else if err == nil {
					leave(c, v.id, errors.New("changed while it was read (or stored as bytes): run the rotation again"))
				}
			}
			visited += len(page)
			if err := tx.Commit(); err != nil {
				return done, err
			}
			done += sealed
			batches++
			if opts.Progress != nil {
				opts.Progress(min(visited, total), total)
			}
		}
	}
	if left > 0 {
		return done, &LeftError{N: left}
	}
	return done, nil
}

type column struct{ table, name string }

// encryptedColumns lists every encrypted column, in a stable order.
func encryptedColumns() []column {
	var columns []column
	for table, cols := range ent.EncryptedColumns {
		for c := range cols {
			columns = append(columns, column{table, c})
		}
	}
	sort.Slice(columns, func(i, j int) bool {
		return columns[i].table+"."+columns[i].name < columns[j].table+"."+columns[j].name
	})
	return columns
}

// notPrefixed selects the rows of c holding a value that does not start
// with prefix (the empty string included: reads refuse it too).
func (s *Store) notPrefixed(c column, prefix string) *entsql.Selector {
	return entsql.Dialect(s.Dialect).Select().From(entsql.Table(c.table)).
		Where(entsql.And(entsql.NotNull(c.name), entsql.Not(prefixed(c.name, prefix))))
}

// prefixed holds for values of column starting with prefix, compared
// byte for byte: SQLite's LIKE ignores case, and "V2:" is not "v2:".
func prefixed(column, prefix string) *entsql.Predicate {
	return entsql.P(func(b *entsql.Builder) {
		b.WriteString("SUBSTR(").Ident(column).WriteString(", 1, " + strconv.Itoa(len(prefix)) + ") = ").Arg(prefix)
	})
}

// Unbound counts, per "table.column", the values not sealed to their row:
// legacy plaintext, values sealed to their column only (a database from
// before rows were bound), and anything a database writer put there. Reads
// refuse them; RotateKeys seals them, and is the operator's decision: a
// server sealing them by itself would make a planted value authentic.
func (s *Store) Unbound(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, c := range encryptedColumns() {
		n, err := s.count(ctx, c, s.notPrefixed(c, crypt.Prefix))
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out[c.table+"."+c.name] = n
		}
	}
	return out, nil
}

func (s *Store) count(ctx context.Context, c column, rows *entsql.Selector) (int, error) {
	q, args := rows.Count().Query()
	var n int
	if err := s.DB.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s.%s: %w", c.table, c.name, err)
	}
	return n, nil
}
