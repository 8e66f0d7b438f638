package seed_test

import (
	"context"
	"fmt"
	"testing"

	"veil/ent/order"
	"veil/ent/user"
	"veil/seed"
	"veil/veiltest"
)

// TestScaleGeneratesTheDataset generates 520 users (more than one batch)
// with 2 orders and 3 activity events each, and checks the counts, the
// progress reported, and that a second run adds nothing.
func TestScaleGeneratesTheDataset(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		c := env.Store.Client
		counts := func() string {
			users, err1 := c.User.Query().Where(user.PhoneHasPrefix("150")).Count(ctx)
			orders, err2 := c.Order.Query().Where(order.OrderNoHasPrefix("SC")).Count(ctx)
			activity, err3 := c.ActivityLog.Query().Count(ctx)
			for _, err := range []error{err1, err2, err3} {
				if err != nil {
					t.Fatal(err)
				}
			}
			return fmt.Sprintf("%d users, %d orders, %d activity events", users, orders, activity)
		}
		before := counts()
		var progress []string
		opts := seed.ScaleOptions{Users: 520, OrdersPerUser: 2, ActivityPerUser: 3,
			Progress: func(done, total int) { progress = append(progress, fmt.Sprintf("%d/%d", done, total)) }}
		if err := seed.Scale(ctx, c, opts, env.Clock); err != nil {
			t.Fatal(err)
		}
		if got, want := counts(), "520 users, 1040 orders, 1560 activity events"; before != "0 users, 0 orders, 0 activity events" || got != want {
			t.Errorf("before %s; after %s, want %s", before, got, want)
		}
		if got := fmt.Sprint(progress); got != "[500/520 520/520]" {
			t.Errorf("progress %s", got)
		}
		if err := seed.Scale(ctx, c, opts, env.Clock); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got != "520 users, 1040 orders, 1560 activity events" {
			t.Errorf("a second run changed the dataset: %s", got)
		}
	})
}
