// Package ratelimit keeps token buckets per key (a session, an IP address)
// in memory. Each server process keeps its own buckets, so N processes
// allow up to N times the rate; the per-phone login-code limit, which
// matters most, is kept in the store instead (package account).
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a set of token buckets, one per key.
type Limiter struct {
	Rate  rate.Limit
	Burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// New returns a limiter of r events a second with bursts of burst.
func New(r rate.Limit, burst int) *Limiter {
	return &Limiter{Rate: r, Burst: burst, buckets: map[string]*bucket{}}
}

// Allow takes a token for key at now; when none is left it returns false
// and how long to wait for one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
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
