package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

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
}

// ErrStopped is returned when RotateKeys stops at MaxBatches.
var ErrStopped = errors.New("store: key rotation stopped before the end; run it again to finish")

// RotateKeys re-seals, under the keyring's current key and to its row,
// every encrypted value that is not so yet (including legacy plaintext and
// values sealed to their column only, see Unbound), column by column in
// batches, each in its own transaction. A value changed since it was read
// is left for the next run, never overwritten. Interrupted, it resumes
// where it stopped: what is done is under the current key, the rest as it
// was, and every value sealed to its row stays readable throughout.
func (s *Store) RotateKeys(ctx context.Context, k *crypt.Keyring, opts RotateOptions) (int, error) {
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	columns := encryptedColumns()
	stale := func(c column) *entsql.Selector { return s.notPrefixed(c, crypt.Prefix+k.Current+":") }
	total := 0
	for _, c := range columns {
		n, err := s.count(ctx, c, stale(c))
		if err != nil {
			return 0, err
		}
		total += n
	}
	done, batches := 0, 0
	for _, c := range columns {
		aad := c.table + "." + c.name
		for {
			if opts.MaxBatches > 0 && batches >= opts.MaxBatches {
				return done, ErrStopped
			}
			q, args := stale(c).Select("id", c.name).OrderBy("id").Limit(opts.Batch).Query()
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
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				return done, err
			}
			for _, v := range page {
				plain, err := k.OpenAny(aad, int64(v.id), v.old)
				if err != nil {
					tx.Rollback()
					return done, fmt.Errorf("%s id %d: %w", aad, v.id, err)
				}
				sealed, err := k.Seal(aad, int64(v.id), plain)
				if err != nil {
					tx.Rollback()
					return done, err
				}
				uq, uargs := entsql.Dialect(s.Dialect).Update(c.table).Set(c.name, sealed).
					Where(entsql.And(entsql.EQ("id", v.id), entsql.EQ(c.name, v.old))).Query()
				if _, err := tx.ExecContext(ctx, uq, uargs...); err != nil {
					tx.Rollback()
					return done, err
				}
			}
			if err := tx.Commit(); err != nil {
				return done, err
			}
			done += len(page)
			batches++
			if opts.Progress != nil {
				opts.Progress(min(done, total), total)
			}
		}
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
// with prefix.
func (s *Store) notPrefixed(c column, prefix string) *entsql.Selector {
	return entsql.Dialect(s.Dialect).Select().From(entsql.Table(c.table)).
		Where(entsql.And(entsql.NotNull(c.name), entsql.NEQ(c.name, ""),
			entsql.Not(entsql.HasPrefix(c.name, prefix))))
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
