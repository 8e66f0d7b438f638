package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"veil/audit"
	"veil/veiltest"
)

// BenchmarkAppend appends batches of raw-read entries (two classes for
// each subject, as a staff list writes them) to the chain on SQLite, and
// reports the CPU time of the process per append: what the audit log adds
// to a request that reads that many values raw.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 20, 100} {
		b.Run(fmt.Sprintf("entries-%d", n), func(b *testing.B) {
			env := veiltest.New(b, "sqlite:"+filepath.Join(b.TempDir(), "veil.db"))
			entries := make([]audit.Entry, n)
			for i := range entries {
				entries[i] = audit.Entry{ActorID: 3, ActorRole: "support", SubjectID: 1000 + i/2,
					Action: audit.ReadRaw, Class: []string{"contact", "internal"}[i%2], Purpose: "after_sales"}
			}
			ctx := context.Background()
			start := veiltest.CPUTime()
			for b.Loop() {
				if err := audit.Append(ctx, env.Store.Client, time.Now(), entries...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((veiltest.CPUTime()-start).Microseconds())/float64(b.N), "cpu-µs/append")
		})
	}
}
