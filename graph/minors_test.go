package graph_test

import (
	"context"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/seed"
	"veil/veiltest"
)

// guardianProbes are the powers a guardian may hold over a ward, each as a
// request made by the guardian that succeeds only when the power is held.
// cancel comes last: it ends the ward's account.
var guardianProbes = []struct {
	power string
	req   func(ward *ent.User) veiltest.Request
	held  func(r veiltest.Response, ward *ent.User) bool
}{
	{"read raw", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `query($w: ID!) { node(id: $w) { ... on User { realName } } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, func(r veiltest.Response, w *ent.User) bool {
		return veiltest.Dig(r.Data, "node.realName") == w.RealName
	}},
	{"see consent state", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `query($w: ID!) { node(id: $w) { ... on User { consents { purpose grantedAt } } } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, func(r veiltest.Response, _ *ent.User) bool {
		list, _ := veiltest.Dig(r.Data, "node.consents").([]any)
		return len(list) > 0 && veiltest.Dig(list[0], "grantedAt") != nil
	}},
	{"grant consent", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { grantConsent(purpose: MARKETING, forUser: $w) { id } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
	{"withdraw consent", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { withdrawConsent(purpose: MARKETING, forUser: $w) { withdrawn } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
	{"correct", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { correctMyData(input: {nickname: "改名"}, forUser: $w) { id } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
	{"export", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { exportMyData(forUser: $w) }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
	{"delete", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { deleteMyData(category: ADDRESS_BOOK, forUser: $w) { deleted } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
	{"cancel", func(w *ent.User) veiltest.Request {
		return veiltest.Request{Query: `mutation($w: ID!) { cancelAccount(confirm: true, forUser: $w) { cancelled } }`, Variables: map[string]any{"w": veiltest.ID(w.ID)}}
	}, succeeded},
}

func succeeded(r veiltest.Response, _ *ent.User) bool { return len(r.Errors) == 0 && r.Status == 200 }

// TestGuardianPowersFollowTheWardsAge walks every guardian power across
// the 14th and 18th birthdays, the day before and the day of: under 14
// the guardian holds them all; from 14 to 17 only the consents (granting,
// withdrawing, and seeing them); at 18 none. Reads, forUser, the export
// and the cancellation must all agree.
func TestGuardianPowersFollowTheWardsAge(t *testing.T) {
	childPowers := map[string]bool{"read raw": true, "see consent state": true, "grant consent": true, "withdraw consent": true,
		"correct": true, "export": true, "delete": true, "cancel": true}
	minorPowers := map[string]bool{"see consent state": true, "grant consent": true, "withdraw consent": true}
	days := []struct {
		name        string
		years, days int // the ward's birth: years ago, moved days later
		want        map[string]bool
	}{
		{"the day before the 14th birthday", 14, -1, childPowers},
		{"the 14th birthday", 14, 0, minorPowers},
		{"the day before the 18th birthday", 18, -1, minorPowers},
		{"the 18th birthday", 18, 0, map[string]bool{}},
	}
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		guardian := newUser(t, env, true, 40)
		token := env.Token(guardian.ID)
		for i, day := range days {
			t.Run(day.name, func(t *testing.T) {
				ward := newWard(t, env, guardian, seed.YearsAgo(env.Clock, day.years, day.days), 200+i)
				for _, p := range guardianProbes {
					req := p.req(ward)
					req.Token = token
					r := env.Do(req)
					if got := p.held(r, ward); got != day.want[p.power] {
						t.Errorf("%s: held = %v, want %v: %s", p.power, got, day.want[p.power], r.Raw)
					}
					if !day.want[p.power] && len(r.Errors) > 0 && r.Code() != "FORBIDDEN" {
						t.Errorf("%s refused with %s, want FORBIDDEN", p.power, r.Code())
					}
				}
			})
		}
	})
}

// newWard seeds a verified user born on birth, linked to guardian, with
// the guardian's consent to the account and the real name.
func newWard(t *testing.T, env *veiltest.Env, guardian *ent.User, birth time.Time, seq int) *ent.User {
	t.Helper()
	ctx := context.Background()
	w, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{
		Phone: freshPhone(), Nickname: "ward", RealName: "周小九", Birth: birth, GuardianID: guardian.ID, Seq: seq,
	}, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []classification.ConsentPurpose{classification.ConsentAccount, classification.ConsentRealName} {
		if err := seed.EnsureConsent(ctx, env.Store.Client, w.ID, p, guardian.ID, env.Clock); err != nil {
			t.Fatal(err)
		}
	}
	return w
}
