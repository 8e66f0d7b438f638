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

// RotateKeys re-seals, under the keyring's current key, every encrypted
// value that is not under it yet (including legacy plaintext), column by
// column in batches, each in its own transaction. A value changed since it
// was read is left for the next run, never overwritten. Interrupted, it
// resumes where it stopped: what is done is under the current key, the
// rest under its old key, and all of it readable throughout.
func (s *Store) RotateKeys(ctx context.Context, k *crypt.Keyring, opts RotateOptions) (int, error) {
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	type column struct{ table, name string }
	var columns []column
	for table, cols := range ent.EncryptedColumns {
		for c := range cols {
			columns = append(columns, column{table, c})
		}
	}
	sort.Slice(columns, func(i, j int) bool {
		return columns[i].table+"."+columns[i].name < columns[j].table+"."+columns[j].name
	})
	stale := func(c column) *entsql.Selector {
		return entsql.Dialect(s.Dialect).Select().From(entsql.Table(c.table)).
			Where(entsql.And(entsql.NotNull(c.name), entsql.NEQ(c.name, ""),
				entsql.Not(entsql.HasPrefix(c.name, crypt.Prefix+k.Current+":"))))
	}
	total := 0
	for _, c := range columns {
		q, args := stale(c).Count().Query()
		var n int
		if err := s.DB.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s.%s: %w", c.table, c.name, err)
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
				plain, err := k.Open(aad, v.old)
				if err != nil {
					tx.Rollback()
					return done, fmt.Errorf("%s id %d: %w", aad, v.id, err)
				}
				sealed, err := k.Seal(aad, plain)
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
