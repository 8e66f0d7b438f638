package ratelimit_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"veil/ratelimit"
	"veil/veiltest"
)

// TestSharedLimitsHoldAcrossProcesses: two limiters on two pools of one
// PostgreSQL database, as two server processes have, allow the burst once
// between them, concurrently, and tell how long to wait.
func TestSharedLimitsHoldAcrossProcesses(t *testing.T) {
	base := os.Getenv(veiltest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL to run this test", veiltest.PostgresEnv)
	}
	env := veiltest.New(t, veiltest.FreshPostgresSchema(t, base))
	var limiters []*ratelimit.Limiter
	for range 2 {
		db, err := env.Store.OpenSide("synchronous_commit=off")
		if err != nil {
			t.Fatal(err)
		}
		var commit string
		if err := db.QueryRow("SHOW synchronous_commit").Scan(&commit); err != nil || commit != "off" {
			t.Fatalf("the side pool commits with synchronous_commit %q (%v)", commit, err)
		}
		limiters = append(limiters, ratelimit.New(rate.Every(time.Minute), 5).On(ratelimit.NewShared(db), "test"))
	}
	now := time.Now()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, wait := limiters[i%2].Allow(context.Background(), "ip:203.0.113.7", now); ok {
				allowed.Add(1)
			} else if wait <= 0 || wait > time.Minute {
				t.Errorf("refused, wait %v", wait)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 5 {
		t.Errorf("%d of 40 allowed across two processes, want the burst of 5", n)
	}
	if ok, _ := limiters[0].Allow(context.Background(), "ip:203.0.113.8", now); !ok {
		t.Error("another key was refused")
	}
	// A minute later one more token has come back, for either process.
	if ok, _ := limiters[1].Allow(context.Background(), "ip:203.0.113.7", now.Add(61*time.Second)); !ok {
		t.Error("the bucket did not refill")
	}
	var keys []string
	rows, err := env.Store.DB.Query(`SELECT bucket FROM rate_buckets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	for _, k := range keys {
		if len(k) < 20 || k[:5] != "test:" || containsAddress(k) {
			t.Errorf("bucket key %q: want the limit's name and a keyed hash", k)
		}
	}
}

func containsAddress(s string) bool {
	for _, a := range []string{"203.0.113", "ip:"} {
		for i := 0; i+len(a) <= len(s); i++ {
			if s[i:i+len(a)] == a {
				return true
			}
		}
	}
	return false
}
