// Package retention removes what is past its retention period (POLICY.md
// P4.1, DESIGN.md rule 6): the rows of every type that declares an expiry
// field, by its class's retention (activity logs after a configurable
// period of at least 6 months, precise locations after 6 months), a
// cancelled account's retained orders 3 years after completion, the
// collected data of a verified minor left without their guardian's
// consent past a grace period (P6.3), guardianships of wards who turned
// 18, ID numbers held after a cancellation by a guardian once the hold
// ends, and expired login codes and sessions. It works in batches, each committed on its own, so
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
	"veil/ent/consent"
	"veil/ent/guardianlink"
	"veil/ent/logincode"
	"veil/ent/order"
	"veil/ent/predicate"
	"veil/ent/session"
	"veil/ent/sharingrecord"
	"veil/ent/user"
	"veil/identity"
	"veil/store"
)

// MinorGrace is how long a verified minor may go without their guardian's
// consent before the data collected about them is deleted (POLICY.md
// P6.3): time for a guardian to link and consent, and no longer.
const MinorGrace = 7 * 24 * time.Hour

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
	minorCutoff := opts.Now.In(classification.ChinaTime).AddDate(-18, 0, 0).Format(classification.BirthDateLayout)
	graceCutoff := opts.Now.Add(-MinorGrace)

	restrictedOrders := []predicate.Order{
		order.HasBuyerWith(user.StatusEQ(user.StatusCANCELLED)),
		order.Or(order.CompletedAtLT(orderCutoff), order.And(order.CompletedAtIsNil(), order.CreatedAtLT(orderCutoff))),
	}
	// A verified minor without an active consent of their guardian to the
	// account, for longer than the grace period: since verification told
	// their age, and since a guardian's consent was last withdrawn.
	unconsentedMinor := user.And(
		user.StatusEQ(user.StatusACTIVE), user.BirthDateGT(minorCutoff), user.RealNameVerifiedAtLT(graceCutoff),
		noGuardianConsent(graceCutoff),
	)
	cameOfAge := guardianlink.And(guardianlink.StatusEQ(guardianlink.StatusACTIVE),
		guardianlink.HasChildWith(user.BirthDateLTE(minorCutoff)))

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
			name: "data of minors without their guardian's consent (P6.3)", class: classification.Internal,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.User.Query().Where(unconsentedMinor, hasCollectedData()).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.User.Query().Where(unconsentedMinor, hasCollectedData()).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				if err := eraseCollected(ctx, tx, ids); err != nil {
					return err
				}
				// The guardian, where one is linked, is told: the
				// guardianship ends, saying why.
				return endLinks(ctx, tx, guardianlink.ChildIDIn(ids...), guardianlink.EndReasonWARD_DATA_DELETED, opts.Now)
			},
		},
		{
			name: "guardianships of wards who turned 18", class: classification.Guardianship,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.GuardianLink.Query().Where(cameOfAge).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.GuardianLink.Query().Where(cameOfAge).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				return endLinks(ctx, tx, guardianlink.IDIn(ids...), guardianlink.EndReasonWARD_CAME_OF_AGE, opts.Now)
			},
		},
		{
			name: "ID numbers held after a cancellation by a guardian", class: classification.SecretData,
			ids: func(ctx context.Context, c *ent.Client, n int) ([]int, error) {
				return c.User.Query().Where(user.IDNumberHeldUntilLT(opts.Now)).Limit(n).IDs(ctx)
			},
			count: func(ctx context.Context, c *ent.Client) (int, error) {
				return c.User.Query().Where(user.IDNumberHeldUntilLT(opts.Now)).Count(ctx)
			},
			remove: func(ctx context.Context, tx *ent.Tx, ids []int) error {
				_, err := tx.User.Update().Where(user.IDIn(ids...)).ClearIDNumberIndex().ClearIDNumberHeldUntil().Save(ctx)
				return err
			},
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

// noGuardianConsent holds for users without an active consent to the
// account from their current guardian, none of whose guardians' consents
// to it was withdrawn after since.
func noGuardianConsent(since time.Time) predicate.User {
	return func(s *entsql.Selector) {
		t := entsql.Table(ent.Tables["Consent"])
		b := entsql.Dialect(s.Dialect())
		consented := b.Select(t.C(consent.FieldID)).From(t).Where(entsql.And(
			entsql.ColumnsEQ(t.C(consent.FieldUserID), s.C(user.FieldID)),
			entsql.EQ(t.C(consent.FieldPurpose), consent.PurposeACCOUNT),
			entsql.ColumnsEQ(t.C(consent.FieldGrantedBy), s.C(user.FieldGuardianID)),
			entsql.IsNull(t.C(consent.FieldWithdrawnAt)),
		))
		recent := b.Select(t.C(consent.FieldID)).From(t).Where(entsql.And(
			entsql.ColumnsEQ(t.C(consent.FieldUserID), s.C(user.FieldID)),
			entsql.EQ(t.C(consent.FieldPurpose), consent.PurposeACCOUNT),
			entsql.NotNull(t.C(consent.FieldGrantedBy)),
			entsql.GT(t.C(consent.FieldWithdrawnAt), since),
		))
		s.Where(entsql.And(entsql.Not(entsql.Exists(consented)), entsql.Not(entsql.Exists(recent))))
	}
}

// endLinks ends the active guardianships that match where, for reason.
func endLinks(ctx context.Context, tx *ent.Tx, where predicate.GuardianLink, reason guardianlink.EndReason, now time.Time) error {
	links, err := tx.GuardianLink.Query().Where(where, guardianlink.StatusEQ(guardianlink.StatusACTIVE)).All(ctx)
	if err != nil {
		return err
	}
	for _, l := range links {
		if _, err := identity.EndLink(ctx, tx.Client(), l, 0, reason, now); err != nil {
			return err
		}
	}
	return nil
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
