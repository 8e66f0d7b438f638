package analytics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"veil/analytics"
	"veil/classification"
	"veil/veiltest"
)

// TestFiguresHoldNoIdentifierAndSingleOutNoOne counts page views of five
// visitors on one page and two on another: the partners' figures count
// the first, leave out the second, and hold no visitor key.
func TestFiguresHoldNoIdentifierAndSingleOutNoOne(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		day := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
		var keys []string
		for i := range 5 {
			key := fmt.Sprintf("%064x", i+1)
			keys = append(keys, key)
			c.WebVisit.Create().SetVisitor(key).SetPage("/search").SetDay(day).ExecX(ctx)
			if i < 2 {
				c.WebVisit.Create().SetVisitor(key).SetPage("/search").SetDay(day).ExecX(ctx)
				c.WebVisit.Create().SetVisitor(key).SetPage("/user/:id").SetDay(day).ExecX(ctx)
			}
		}
		var out bytes.Buffer
		n, err := analytics.Aggregate(ctx, c, &out, 1)
		if err != nil || n != 1 {
			t.Fatalf("%d figures (%v): %s", n, err, out.String())
		}
		var f analytics.Figure
		if err := json.Unmarshal(out.Bytes(), &f); err != nil || f != (analytics.Figure{Day: "2026-06-15", Page: "/search", Views: 7, Visitors: 5}) {
			t.Errorf("the figure: %+v (%v)", f, err)
		}
		for _, k := range keys {
			if strings.Contains(out.String(), k) {
				t.Errorf("a visitor key left in the figures")
			}
		}
	})
}
