// Package ratelimit keeps rate limits per key (a session, an IP address):
// in memory for one process, or, shared by every process on the same
// PostgreSQL database, in a table (Shared).
package ratelimit

import (
	"context"
	"database/sql"
	"log/slog"
	"math"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"golang.org/x/time/rate"

	"veil/crypt"
	"veil/ent/ratebucket"
)

// Limiter is a set of token buckets, one per key.
type Limiter struct {
	Rate  rate.Limit
	Burst int

	shared *Shared
	name   string

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// New returns a limiter of r events a second with bursts of burst, kept in
// this process's memory.
func New(r rate.Limit, burst int) *Limiter {
	return &Limiter{Rate: r, Burst: burst, buckets: map[string]*bucket{}}
}

// On keeps l's buckets in s under name, shared with every process using
// the same database, and returns l. A nil s keeps them in memory.
func (l *Limiter) On(s *Shared, name string) *Limiter {
	l.shared, l.name = s, name
	return l
}

// Allow takes a token for key at now; when none is left it returns false
// and how long to wait for one. A shared limiter whose database does not
// answer falls back to this process's buckets.
func (l *Limiter) Allow(ctx context.Context, key string, now time.Time) (bool, time.Duration) {
	if l.shared != nil {
		ok, wait, err := l.shared.allow(ctx, l, key, now)
		if err == nil {
			return ok, wait
		}
		l.shared.failed(ctx, err)
	}
	return l.allowHere(key, now)
}

func (l *Limiter) allowHere(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Forget buckets idle long enough to be full again.
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(l.Rate, l.Burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.l.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Shared keeps buckets in the rate_buckets table of a PostgreSQL database,
// one row per limit and key, so that N processes allow the rate once, not
// N times. A request's limit costs one statement. Keys are stored as keyed
// hashes (the keyring's blind index), never as the session or address.
type Shared struct {
	drv dialect.Driver

	mu         sync.Mutex
	lastFailed time.Time
	lastSwept  time.Time
}

// NewShared returns the shared buckets of a PostgreSQL pool. The pool
// should commit without waiting for the disk (synchronous_commit=off): a
// bucket lost in a crash only refills early, and every request writes one.
func NewShared(db *sql.DB) *Shared { return &Shared{drv: entsql.OpenDB(dialect.Postgres, db)} }

// allow is the generic cell rate algorithm in one statement: a bucket
// holds its theoretical arrival time tat; a request at now is allowed when
// max(tat, now) - now is at most (burst-1) emission intervals, and then
// moves tat one interval on. The statement returns whether it was allowed
// and the tat before it (the CTE's main query sees the row as it was).
func (s *Shared) allow(ctx context.Context, l *Limiter, key string, now time.Time) (bool, time.Duration, error) {
	hashed, err := crypt.BlindIndex("ratelimit", key)
	if err != nil {
		return false, 0, err
	}
	if l.Rate <= 0 || l.Rate == rate.Inf {
		return l.Rate == rate.Inf, time.Duration(math.MaxInt64), nil
	}
	interval := 1 / float64(l.Rate)
	tolerance := interval * float64(max(l.Burst-1, 0))
	at := float64(now.UnixMicro()) / 1e6
	rows := &entsql.Rows{}
	if err := s.drv.Query(ctx, takeStatement, []any{l.name + ":" + hashed, at, interval, tolerance}, rows); err != nil {
		return false, 0, err
	}
	defer rows.Close()
	var allowed bool
	var tat float64
	if !rows.Next() {
		return false, 0, rows.Err()
	}
	if err := rows.Scan(&allowed, &tat); err != nil {
		return false, 0, err
	}
	if err := rows.Err(); err != nil {
		return false, 0, err
	}
	s.sweep(ctx, now)
	if allowed {
		return true, 0, nil
	}
	wait := tat - tolerance - at
	if wait <= 0 {
		// A bucket a concurrent request created is not in this
		// statement's snapshot: one interval is the shortest wait.
		wait = interval
	}
	return false, time.Duration(wait * float64(time.Second)), nil
}

// takeStatement takes a token of bucket $1 at time $2 (seconds), for an
// emission interval $3 and a tolerance $4 (seconds).
var takeStatement = func() string {
	t, b := ratebucket.Table, ratebucket.FieldBucket
	return `WITH up AS (INSERT INTO "` + t + `" ("` + b + `", "tat") VALUES ($1::text, $2::float8 + $3::float8)
	ON CONFLICT ("` + b + `") DO UPDATE SET "tat" = GREATEST("` + t + `"."tat", $2::float8) + $3::float8
	WHERE GREATEST("` + t + `"."tat", $2::float8) - $2::float8 <= $4::float8 RETURNING 1)
SELECT EXISTS (SELECT 1 FROM up), COALESCE((SELECT "tat" FROM "` + t + `" WHERE "` + b + `" = $1::text), 0)`
}()

// sweep deletes, at most once a minute, the buckets that have been full
// again for an hour.
func (s *Shared) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastSwept) > time.Minute
	if due {
		s.lastSwept = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	query := `DELETE FROM "` + ratebucket.Table + `" WHERE "tat" < $1::float8`
	if err := s.drv.Exec(ctx, query, []any{float64(now.Add(-time.Hour).Unix())}, nil); err != nil {
		s.failed(ctx, err)
	}
}

// failed logs, at most once a minute, that the shared buckets could not
// be used.
func (s *Shared) failed(ctx context.Context, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.lastFailed) < time.Minute {
		return
	}
	s.lastFailed = time.Now()
	slog.WarnContext(ctx, "shared rate limits unavailable: this process limits on its own", "error", err.Error())
}
