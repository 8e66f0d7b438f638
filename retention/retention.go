// Package retention removes what is past its retention period (POLICY.md
// P4.1, DESIGN.md rule 6): the rows of every type that declares an expiry
// field, by its class's retention (activity logs after a configurable
// period of at least 6 months, precise locations after 6 months), a
// cancelled account's retained orders 3 years after completion, the
// collected data of a child left without a guardian, and expired login
// codes and sessions. It works in batches, each committed on its own, so
// it is safe to interrupt and run again; a second run finds nothing left
// to do.
package retention

import (
	"context"
	"fmt"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"veil/audit"
	"veil/classification"
	"veil/ent"
	"veil/ent/logincode"
	"veil/ent/order"
	"veil/ent/predicate"
	"veil/ent/session"
	"veil/ent/sharingrecord"
	"veil/ent/user"
	"veil/store"
)

// MinActivityMonths is the shortest activity retention the policy allows.
const MinActivityMonths = 6

// Options configures a purge.
type Options struct {
	Now time.Time
	// ActivityMonths is how long activity logs are kept (at least 6).
	ActivityMonths int
	// BatchSize is how many rows one batch deletes.
	BatchSize int
	// DryRun counts what is due and deletes nothing.
	DryRun bool
	// Progress, when set, is told of each batch: rows done of total.
	Progress func(done, total int)
}

// Result counts the rows removed (or, in a dry run, due) per rule.
type Result struct {
	Rule  string
	Class string
	Rows  int
}

// rule is one kind of row that falls due.
type rule struct {
	name  string
	class *classification.Class
	// ids returns up to limit IDs of due rows.
	ids func(ctx context.Context, c *ent.Client, limit int) ([]int, error)
	// count returns how many rows are due.
	count func(ctx context.Context, c *ent.Client) (int, error)
	// remove deletes the rows with these IDs (and what depends on them).
	remove func(ctx context.Context, tx *ent.Tx, ids []int) error
}

func rules(opts Options) []rule {
	orderCutoff := opts.Now.AddDate(0, -classification.Transaction.Retention.Months, 0)
	childCutoff := opts.Now.AddDate(-14, 0, 0).Format(classification.BirthDateLayout)

	restrictedOrders := []predicate.Order{
		order.HasBuyerWith(user.StatusEQ(user.StatusCANCELLED)),
		order.Or(order.CompletedAtLT(orderCutoff), order.And(order.CompletedAtIsNil(), order.CreatedAtLT(orderCutoff))),
	}
	orphanChild := user.And(user.BirthDateGT(childCutoff), user.GuardianIDIsNil(), user.StatusEQ(user.StatusACTIVE))

	return append(expiryRules(opts), []rule{
		{
			name: "cancelled accounts' orders 3 years after completion", class: classification.Transaction,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.Order.Query().Where(restrictedOrders...).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.Order.Query().Where(restrictedOrders...).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				if _, err := tx.SharingRecord.Delete().Where(sharingrecord.OrderIDIn(ids...)).Exec(ctx); err != nil {
					return err
				}
				_, err := tx.Order.Delete().Where(order.IDIn(ids...)).Exec(ctx)
				return err
			},
		},
		{
			name: "data of children left without a guardian", class: classification.Internal,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.User.Query().Where(orphanChild, hasCollectedData()).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.User.Query().Where(orphanChild, hasCollectedData()).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error { return eraseCollected(ctx, tx, ids) },
		},
		{
			name: "expired login codes", class: classification.SecretData,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.LoginCode.Query().Where(logincode.ExpiresAtLT(opts.Now.Add(-24 * time.Hour))).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.LoginCode.Query().Where(logincode.ExpiresAtLT(opts.Now.Add(-24 * time.Hour))).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				_, err := tx.LoginCode.Delete().Where(logincode.IDIn(ids...)).Exec(ctx)
				return err
			},
		},
		{
			name: "sessions ended 30 days ago", class: classification.SecretData,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.Session.Query().Where(endedSessions(opts.Now)).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.Session.Query().Where(endedSessions(opts.Now)).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				_, err := tx.Session.Delete().Where(session.IDIn(ids...)).Exec(ctx)
				return err
			},
		},
	}...)
}

// expiryRules are the rules of the types that declare an expiry field
// (classification.Record ExpiresFrom): their rows go once the retention
// of that field's class has passed (for behaviour, opts.ActivityMonths).
func expiryRules(opts Options) []rule {
	var out []rule
	for _, typ := range ent.RecordTypes {
		rec := ent.Records[typ]
		if rec.Expires == "" {
			continue
		}
		class, ok := classification.Lookup(ent.Classes[typ][rec.Expires])
		if !ok || class.Retention.Months == 0 {
			continue
		}
		months := class.Retention.Months
		if class == classification.Behaviour {
			months = opts.ActivityMonths
		}
		cutoff := opts.Now.AddDate(0, -months, 0)
		out = append(out, rule{
			name:  fmt.Sprintf("%s past retention (%d months)", ent.Tables[typ], months),
			class: class,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return ent.ExpiredIDs(ctx, c, typ, cutoff, n)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return ent.CountExpired(ctx, c, typ, cutoff)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				_, err := ent.DeleteIDs(ctx, tx.Client(), typ, ids...)
				return err
			},
		})
	}
	return out
}

func endedSessions(now time.Time) predicate.Session {
	cutoff := now.AddDate(0, 0, -30)
	return session.Or(session.ExpiresAtLT(cutoff), session.RevokedAtLT(cutoff))
}

// hasCollectedData holds for users about whom a row of a type that
// cancellation erases exists: the data collected about them.
func hasCollectedData() predicate.User {
	return func(s *entsql.Selector) {
		var exists []*entsql.Predicate
		for _, typ := range ent.ErasedOnCancel {
			t := entsql.Table(ent.Tables[typ])
			exists = append(exists, entsql.Exists(entsql.Dialect(s.Dialect()).Select(t.C(user.FieldID)).From(t).
				Where(entsql.ColumnsEQ(t.C(ent.Records[typ].Subject), s.C(user.FieldID)))))
		}
		s.Where(entsql.Or(exists...))
	}
}

// eraseCollected erases the data collected about the users ids.
func eraseCollected(ctx context.Context, tx *ent.Tx, ids []int) error {
	for _, typ := range ent.ErasedOnCancel {
		if _, err := ent.DeleteAbout(ctx, tx.Client(), typ, ids...); err != nil {
			return err
		}
	}
	return nil
}

// Purge applies every rule in batches and returns the rows removed (or
// due, in a dry run) per rule.
func Purge(ctx context.Context, c *ent.Client, opts Options) ([]Result, error) {
	if opts.ActivityMonths < MinActivityMonths {
		return nil, fmt.Errorf("retention: activity logs are kept at least %d months, not %d", MinActivityMonths, opts.ActivityMonths)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	// SECURITY: purging is the system's own processing, not collection.
	ctx = classification.AsSystem(ctx)
	rs := rules(opts)
	total := 0
	counts := make([]int, len(rs))
	for i, r := range rs {
		n, err := r.count(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", r.name, err)
		}
		counts[i], total = n, total+n
	}
	results := make([]Result, len(rs))
	done := 0
	for i, r := range rs {
		results[i] = Result{Rule: r.name, Class: r.class.Name}
		if opts.DryRun {
			results[i].Rows = counts[i]
			continue
		}
		for {
			ids, err := r.ids(ctx, c, opts.BatchSize)
			if err != nil {
				return results, err
			}
			if len(ids) == 0 {
				break
			}
			if err := store.WithTx(ctx, c, func(tx *ent.Tx) error { return r.remove(ctx, tx, ids) }); err != nil {
				return results, fmt.Errorf("%s: %w", r.name, err)
			}
			results[i].Rows += len(ids)
			done += len(ids)
			if opts.Progress != nil {
				opts.Progress(min(done, total), total)
			}
		}
		if results[i].Rows > 0 {
			if err := audit.Append(ctx, c, opts.Now, audit.Entry{Action: audit.Purge, Class: r.class.Name,
				Detail: fmt.Sprintf("%s: %d rows", r.name, results[i].Rows)}); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}
