package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"veil/classification"
	"veil/ent/order"
	"veil/seed"
	"veil/veiltest"
)

// BenchmarkHTTP runs three representative operations through the real
// handler, with the classification layer and against the same handler
// without it, in the same run: rounds of requests alternate between the
// two, and the CPU time per request (the server's, and a client's that
// reads but does not decode the answer, both in this process) is
// compared round by round. It reports the median ratio and its spread.
func BenchmarkHTTP(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(prev) })
	env := veiltest.New(b, "sqlite:"+filepath.Join(b.TempDir(), "veil.db"))
	ctx := context.Background()
	w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		u, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{
			Phone: fmt.Sprintf("1370000%04d", i), Nickname: fmt.Sprintf("bench%02d", i),
			RealName: "测试", Birth: seed.YearsAgo(env.Clock, 30, i), Seq: 300 + i,
		}, env.Clock)
		if err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			if _, err := seed.EnsureOrder(ctx, env.Store.Client, fmt.Sprintf("B%02d-%d", i, j), u, w.Listings[j%2], order.StatusPAID, env.Clock); err != nil {
				b.Fatal(err)
			}
		}
	}
	support, purpose := w.Tokens["support"], string(classification.AfterSales)
	ops := []struct {
		name string
		req  veiltest.Request
	}{
		{"own-profile-with-orders", veiltest.Request{Token: w.Tokens["adult"],
			Query: `{ me { id nickname phone realName idNumber ageGroup orders(first: 10) { edges { node { orderNo amountFen status recipientPhone } } } } }`}},
		{"staff-list-50-users", veiltest.Request{Token: support, Purpose: purpose,
			Query: `{ users(first: 50) { edges { node { id nickname avatarURL phone realName idNumber birthDate ageGroup status createdAt } } } }`}},
		// The same list without a purpose: masked, so nothing to audit;
		// the difference to the one above is the audit log.
		{"staff-list-50-users-masked", veiltest.Request{Token: support,
			Query: `{ users(first: 50) { edges { node { id nickname avatarURL phone realName idNumber birthDate ageGroup status createdAt } } } }`}},
		{"nested-users-orders", veiltest.Request{Token: support, Purpose: purpose,
			Query: `{ users(first: 20) { edges { node { id nickname orders(first: 10) { edges { node { orderNo amountFen recipientPhone status } } } } } } }`}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			if r := env.Do(op.req); len(r.Errors) > 0 || r.Data == nil {
				b.Fatalf("%.300s", r.Raw)
			}
			// The client sends prepared requests and reads the answers
			// without decoding them: the CPU measured is the server's, plus
			// an HTTP client's that is the same on both sides.
			layer, baseline := env.Poster(op.req, false), env.Poster(op.req, true)
			const perRound = 20
			half := func(p *veiltest.Poster) time.Duration {
				start := veiltest.CPUTime()
				for range perRound {
					if err := p.Post(); err != nil {
						b.Fatal(err)
					}
				}
				return veiltest.CPUTime() - start
			}
			var ratios []float64
			var with, without time.Duration
			round := 0
			for b.Loop() {
				// Alternate which side goes first: the collector's work, and
				// anything else running late, falls on either side alike.
				var w, wo time.Duration
				if round++; round%2 == 0 {
					w, wo = half(layer), half(baseline)
				} else {
					wo, w = half(baseline), half(layer)
				}
				with += w
				without += wo
				if wo > 0 {
					ratios = append(ratios, float64(w)/float64(wo))
				}
			}
			sort.Float64s(ratios)
			if len(ratios) > 0 {
				b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
				b.ReportMetric(ratios[0], "ratio-min")
				b.ReportMetric(ratios[len(ratios)-1], "ratio-max")
			}
			n := float64(b.N * perRound)
			b.ReportMetric(float64(with.Microseconds())/n, "cpu-µs/req")
			b.ReportMetric(float64(without.Microseconds())/n, "baseline-cpu-µs/req")
			b.ReportMetric(float64(with)/float64(without), "ratio-total")
		})
	}
}
