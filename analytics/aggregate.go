package analytics

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/webvisit"
)

// MinVisitors is the fewest distinct visitors a figure may count: a
// smaller one is left out, so that no figure singles out a person.
const MinVisitors = 5

// Figure is one aggregate figure of the web app's page views: non-
// personal, and what may go to partners (POLICY.md P2).
type Figure struct {
	Day      string `json:"day"`
	Page     string `json:"page"`
	Views    int    `json:"views"`
	Visitors int    `json:"visitors"`
}

// Aggregate writes, as JSON lines, the page views counted under analytics
// cookies per day and page: views and distinct visitors (people: the
// consents the views were counted under), leaving out every figure of
// fewer than minVisitors visitors (at least MinVisitors). No key of a
// visitor or a consent leaves. It returns how many figures it wrote.
func Aggregate(ctx context.Context, c *ent.Client, w io.Writer, minVisitors int) (int, error) {
	minVisitors = max(minVisitors, MinVisitors)
	type cell struct{ day, page string }
	views := map[cell]int{}
	visitors := map[cell]map[int]bool{}
	// SECURITY: page views are about no account; only counts leave.
	ctx = classification.AsSystem(ctx)
	after := 0
	for {
		page, err := c.WebVisit.Query().Where(webvisit.IDGT(after)).Order(ent.Asc(webvisit.FieldID)).Limit(1000).All(ctx)
		if err != nil {
			return 0, err
		}
		for _, v := range page {
			k := cell{v.Day.UTC().Format(time.DateOnly), v.Page}
			views[k]++
			if visitors[k] == nil {
				visitors[k] = map[int]bool{}
			}
			// People, not cookies: a browser that forges cookie values
			// is still one consent.
			visitors[k][v.ConsentID] = true
			after = v.ID
		}
		if len(page) < 1000 {
			break
		}
	}
	var out []Figure
	for k, n := range views {
		if len(visitors[k]) >= minVisitors {
			out = append(out, Figure{Day: k.day, Page: k.page, Views: n, Visitors: len(visitors[k])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Page < out[j].Page
	})
	enc := json.NewEncoder(w)
	for _, f := range out {
		if err := enc.Encode(f); err != nil {
			return 0, err
		}
	}
	return len(out), nil
}
