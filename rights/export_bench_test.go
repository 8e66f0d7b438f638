package rights_test

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/rights"
	"veil/seed"
	"veil/veiltest"
)

// seedActivity gives a new user n activity rows and returns the user ID.
func seedActivity(b testing.TB, env *veiltest.Env, n int) int {
	b.Helper()
	ctx := classification.AsSystem(context.Background())
	u, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{Phone: "13300000001", Nickname: "busy"}, env.Clock)
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; done += 1000 {
		batch := make([]*ent.ActivityLogCreate, min(1000, n-done))
		for i := range batch {
			q := "a search query of moderate length"
			batch[i] = env.Store.Client.ActivityLog.Create().SetUserID(u.ID).SetKind(activitylog.KindSEARCH).
				SetSearchQuery(q).SetIP("198.51.100.23").SetPage("/search").SetOccurredAt(env.Clock.Add(-time.Duration(done+i) * time.Second))
		}
		if err := env.Store.Client.ActivityLog.CreateBulk(batch...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return u.ID
}

// peakHeap runs fn while sampling the live heap (as the garbage collector
// last marked it, so garbage awaiting collection does not count), and
// returns its peak above the live heap before fn started.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	if peak.Load() < base {
		return 0
	}
	return peak.Load() - base
}

// BenchmarkExportMemory measures the peak heap of exporting a user with
// 1,000 and with 100,000 activity rows, in the same run, and reports both
// and their ratio. Flat memory means a ratio near 1, not near 100.
func BenchmarkExportMemory(b *testing.B) {
	peaks := map[int]float64{}
	for _, n := range []int{1_000, 100_000, 300_000} {
		env := veiltest.New(b, "sqlite:"+filepath.Join(b.TempDir(), "veil.db"))
		id := seedActivity(b, env, n)
		var worst uint64
		for range b.N {
			p := peakHeap(func() {
				if err := rights.Export(context.Background(), env.Store.Client, env.Store.Counter, id, io.Discard, env.Clock); err != nil {
					b.Fatal(err)
				}
			})
			worst = max(worst, p)
		}
		peaks[n] = float64(worst) / (1 << 20)
	}
	b.ReportMetric(peaks[1_000], "peak-MiB-1k-rows")
	b.ReportMetric(peaks[100_000], "peak-MiB-100k-rows")
	b.ReportMetric(peaks[100_000]/peaks[1_000], "ratio")
	b.ReportMetric(peaks[300_000], "peak-MiB-300k-rows")
}
