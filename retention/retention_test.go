package retention_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/applog"
	"veil/ent/consent"
	"veil/ent/order"
	"veil/ent/user"
	"veil/retention"
	"veil/seed"
	"veil/store"
	"veil/veiltest"
)

// world seeds, around now, one row just past and one just short of each
// retention rule, and returns what must survive.
func world(t *testing.T, env *veiltest.Env, now time.Time) {
	t.Helper()
	ctx := classification.AsSystem(context.Background())
	c := env.Store.Client
	mk := func(p seed.Person) *ent.User {
		u, err := seed.EnsureUser(ctx, c, p, now)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	active := mk(seed.Person{Phone: "13100000001", Nickname: "active", RealName: "甲", Birth: seed.YearsAgo(now, 30, 0), Seq: 1})
	gone := mk(seed.Person{Phone: "13100000002", Nickname: "gone", RealName: "乙", Birth: seed.YearsAgo(now, 30, 0), Seq: 2})
	seller := mk(seed.Person{Phone: "13100000003", Nickname: "seller"})
	guardian := mk(seed.Person{Phone: "13100000004", Nickname: "guardian", RealName: "丙", Birth: seed.YearsAgo(now, 40, 0), Seq: 4})
	orphan := mk(seed.Person{Phone: "13100000005", Nickname: "orphan", RealName: "丁", Birth: seed.YearsAgo(now, 10, 0), Seq: 5})
	ward := mk(seed.Person{Phone: "13100000006", Nickname: "ward", RealName: "戊", Birth: seed.YearsAgo(now, 10, 0), Seq: 6, GuardianID: guardian.ID})
	// Minors: one verified within the grace period without a guardian;
	// one whose guardian withdrew consent past it; one ward who turns 18
	// today.
	fresh := mk(seed.Person{Phone: "13100000007", Nickname: "fresh", RealName: "己", Birth: seed.YearsAgo(now, 16, 0), Seq: 7})
	dropped := mk(seed.Person{Phone: "13100000008", Nickname: "dropped", RealName: "庚", Birth: seed.YearsAgo(now, 16, 0), Seq: 8, GuardianID: guardian.ID})
	grown := mk(seed.Person{Phone: "13100000009", Nickname: "grown", RealName: "辛", Birth: seed.YearsAgo(now, 18, 0), Seq: 9, GuardianID: guardian.ID})
	for _, w := range []*ent.User{ward, dropped, grown} {
		if err := seed.EnsureConsent(ctx, c, w.ID, classification.ConsentAccount, guardian.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	past := now.Add(-retention.MinorGrace - time.Hour)
	c.User.Update().Where(user.IDIn(orphan.ID, dropped.ID)).SetRealNameVerifiedAt(past).ExecX(ctx)
	c.User.UpdateOne(fresh).SetRealNameVerifiedAt(now.Add(-retention.MinorGrace + time.Hour)).ExecX(ctx)
	c.Consent.Update().Where(consent.UserID(dropped.ID)).SetWithdrawnAt(past).ExecX(ctx)
	// A ward cancelled by their guardian, whose ID number's hold has ended.
	held := mk(seed.Person{Phone: "13100000010", Nickname: "held", RealName: "壬", Birth: seed.YearsAgo(now, 12, 0), Seq: 10})
	c.User.UpdateOne(held).SetStatus(user.StatusCANCELLED).SetIDNumberHeldUntil(now.Add(-time.Hour)).ExecX(ctx)

	for _, a := range []struct{ age time.Duration }{{7 * 30 * 24 * time.Hour}, {5 * 30 * 24 * time.Hour}} {
		if err := c.ActivityLog.Create().SetUserID(active.ID).SetKind(activitylog.KindPAGE_VIEW).SetOccurredAt(now.Add(-a.age)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, months := range []int{7, 5} {
		c.WebVisit.Create().SetVisitor("v").SetPage("/search").SetConsentID(1).SetDay(now.AddDate(0, -months, 0)).ExecX(ctx)
		if err := c.AppLog.Create().SetUserID(active.ID).SetKind(applog.KindSTARTUP).SetAppVersion("1").SetOsVersion("1").
			SetDeviceModel("m").SetOccurredAt(now.AddDate(0, -months, 0)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, months := range []int{7, 1} {
		if err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
			return tx.Location.Create().SetUserID(active.ID).SetLatitude(30).SetLongitude(120).SetRecordedAt(now.AddDate(0, -months, 0)).Exec(ctx)
		}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := seed.EnsureListing(ctx, c, seller.ID, "item", 100, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []struct {
		buyer  *ent.User
		months int
	}{{gone, 37}, {gone, 35}, {active, 40}} {
		created, err := seed.EnsureOrder(ctx, c, "R-"+string(rune('A'+i)), o.buyer, l, order.StatusCOMPLETED, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Order.UpdateOne(created).SetCompletedAt(now.AddDate(0, -o.months, 0)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := seed.EnsureSharing(ctx, c, created, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.User.UpdateOne(gone).SetStatus(user.StatusCANCELLED).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*ent.User{orphan, ward, fresh, dropped} {
		if err := c.Device.Create().SetUserID(u.ID).SetModel("m").SetOs("o").SetOsVersion("1").SetClientVersion("1").
			SetResolution("1x1").SetPackageName("p").SetRegisteredAt(now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, expired := range []time.Time{now.Add(-48 * time.Hour), now.Add(time.Minute)} {
		if err := c.LoginCode.Create().SetPhone("13100000001").SetCodeHash([]byte{1}).SetCreatedAt(expired.Add(-5 * time.Minute)).SetExpiresAt(expired).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, revoked := range []time.Time{now.AddDate(0, 0, -31), now.AddDate(0, 0, -1)} {
		if err := c.Session.Create().SetUserID(active.ID).SetTokenHash([]byte(revoked.String())).SetCreatedAt(revoked).
			SetExpiresAt(now.AddDate(0, 0, 10)).SetRevokedAt(revoked).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPurgeRemovesExactlyWhatIsDue(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		now := veiltest.Now
		world(t, env, now)
		c := env.Store.Client
		opts := retention.Options{Now: now, ActivityMonths: 6, BatchSize: 1}

		t.Run("a period under 6 months is refused", func(t *testing.T) {
			bad := opts
			bad.ActivityMonths = 5
			if _, err := retention.Purge(ctx, c, bad); err == nil {
				t.Error("purge accepted 5 months")
			}
		})

		want := map[string]int{
			"activity_logs past retention (6 months)":                1,
			"locations past retention (6 months)":                    1,
			"app_logs past retention (6 months)":                     1,
			"web_visits past retention (6 months)":                   1,
			"cancelled accounts' orders 3 years after completion":    1,
			"data of minors without their guardian's consent (P6.3)": 2,
			"guardianships of wards who turned 18":                   1,
			"ID numbers held after a cancellation by a guardian":     1,
			"expired login codes":                                    1,
			"sessions ended 30 days ago":                             1,
		}
		dry := opts
		dry.DryRun = true
		before, _ := c.ActivityLog.Query().Count(ctx)
		results, err := retention.Purge(ctx, c, dry)
		if err != nil {
			t.Fatal(err)
		}
		check := func(label string, results []retention.Result, want map[string]int) {
			t.Helper()
			if len(results) != len(want) {
				t.Fatalf("%s: %d rules, want %d", label, len(results), len(want))
			}
			for _, r := range results {
				if r.Rows != want[r.Rule] {
					t.Errorf("%s: %s: %d rows, want %d", label, r.Rule, r.Rows, want[r.Rule])
				}
			}
		}
		check("dry run", results, want)
		if after, _ := c.ActivityLog.Query().Count(ctx); after != before {
			t.Fatal("a dry run deleted rows")
		}

		var progress []int
		opts.Progress = func(done, total int) { progress = append(progress, done) }
		results, err = retention.Purge(ctx, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		check("purge", results, want)
		if len(progress) != 11 || progress[10] != 11 {
			t.Errorf("progress reports %v, want one per batch up to 11", progress)
		}

		remaining := map[string]func(context.Context) (int, error){
			"activity logs":   c.ActivityLog.Query().Count,
			"app logs":        c.AppLog.Query().Count,
			"web visits":      c.WebVisit.Query().Count,
			"locations":       c.Location.Query().Count,
			"orders":          c.Order.Query().Count,
			"sharing records": c.SharingRecord.Query().Count,
			"devices":         c.Device.Query().Count,
			"login codes":     c.LoginCode.Query().Count,
		}
		wantLeft := map[string]int{"activity logs": 1, "app logs": 1, "web visits": 1, "locations": 1, "orders": 2, "sharing records": 2, "devices": 2, "login codes": 1}
		for name, count := range remaining {
			if n, err := count(ctx); err != nil || n != wantLeft[name] {
				t.Errorf("%s left: %d (%v), want %d", name, n, err, wantLeft[name])
			}
		}

		ends := map[string]string{}
		for _, l := range c.GuardianLink.Query().WithChild().AllX(ctx) {
			if l.EndReason != nil {
				ends[l.Edges.Child.Nickname] = string(*l.EndReason)
			}
		}
		if want := map[string]string{"dropped": "WARD_DATA_DELETED", "grown": "WARD_CAME_OF_AGE"}; !maps.Equal(ends, want) {
			t.Errorf("guardianships ended: %v, want %v", ends, want)
		}

		results, err = retention.Purge(ctx, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		zero := map[string]int{}
		for rule := range want {
			zero[rule] = 0
		}
		check("second run", results, zero)
	})
}
