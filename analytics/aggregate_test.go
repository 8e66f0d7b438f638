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
// people on one page, two on another, and two on a third where one of
// them forged four more cookies: the partners' figures count the first
// only, and hold no visitor key.
func TestFiguresHoldNoIdentifierAndSingleOutNoOne(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		day := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
		var keys []string
		view := func(key string, consentID int, page string) {
			keys = append(keys, key)
			c.WebVisit.Create().SetVisitor(key).SetConsentID(consentID).SetPage(page).SetDay(day).ExecX(ctx)
		}
		for i := range 5 {
			key := fmt.Sprintf("%064x", i+1)
			view(key, 100+i, "/search")
			if i < 2 {
				view(key, 100+i, "/search")
				view(key, 100+i, "/user/:id")
			}
		}
		// One person forging cookie values is still one visitor: /help
		// has one real visitor and four forged ones, all under one consent
		// but the real one's.
		view(fmt.Sprintf("%064x", 99), 200, "/help")
		for i := range 4 {
			view(fmt.Sprintf("%064x", 300+i), 201, "/help")
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
