package graph_test

import (
	"context"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
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

// wardFixture is a verified ward of guardian, born years ago, as a
// fixture for the mutation examples; with consented false, the guardian
// has linked but not consented to the account.
func wardFixture(t *testing.T, env *veiltest.Env, guardian *ent.User, years int, consented bool) *fixture {
	t.Helper()
	w := newWard(t, env, guardian, seed.YearsAgo(env.Clock, years, 20), 300+int(phoneSeq.Load()%600))
	if !consented {
		env.Store.Client.Consent.Update().Where(consent.UserID(w.ID)).SetWithdrawnAt(env.Clock).ExecX(context.Background())
	}
	// The ward's own consent to the account, as first login records it.
	if err := seed.EnsureConsent(context.Background(), env.Store.Client, w.ID, classification.ConsentAccount, 0, env.Clock); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, env: env, user: w, token: env.Token(w.ID)}
}

// TestMinorsNeedTheirGuardiansConsent applies P6.1 and P6.2 to a
// verified 16-year-old: without a guardian's consent only the essential
// operations work; with it, the service works, but data the basic service
// does not need is collected only on the guardian's consent, and the
// minor's own withdrawal still stops it.
func TestMinorsNeedTheirGuardiansConsent(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		guardian := newUser(t, env, true, 45)
		gToken := env.Token(guardian.ID)
		t.Run("without the guardian's consent", func(t *testing.T) {
			for _, f := range []*fixture{newMinor(t, env), wardFixture(t, env, guardian, 16, false)} {
				if r := env.Do(examples["openSupportTicket"].call(f)); r.Code() != "GUARDIAN_CONSENT_REQUIRED" {
					t.Errorf("a minor without a guardian's consent uses the service: %s", r.Raw)
				}
				f.grant(classification.ConsentContacts)
				if r := env.Do(examples["uploadContacts"].call(f)); r.Code() != "GUARDIAN_CONSENT_REQUIRED" {
					t.Errorf("a minor's address book on their own consent: %s", r.Raw)
				}
				for _, q := range []string{`mutation { exportMyData }`, `mutation { grantConsent(purpose: DEVICE) { id } }`,
					`mutation { withdrawConsent(purpose: DEVICE) { withdrawn } }`, `{ me { id consents { purpose } } }`} {
					env.MustDo(veiltest.Request{Token: f.token, Query: q})
				}
			}
		})
		t.Run("with the guardian's consent", func(t *testing.T) {
			f := wardFixture(t, env, guardian, 16, true)
			env.MustDo(examples["openSupportTicket"].call(f))
			f.grant(classification.ConsentDevice, classification.ConsentContacts)
			env.MustDo(examples["registerDevice"].call(f))
			r := env.Do(examples["uploadContacts"].call(f))
			if r.Code() != "GUARDIAN_CONSENT_REQUIRED" || r.Errors[0].Extensions["purpose"] != "CONTACTS" {
				t.Errorf("a minor's address book on their own consent: %s", r.Raw)
			}
			env.MustDo(veiltest.Request{Token: gToken, Query: `mutation($w: ID!) { grantConsent(purpose: CONTACTS, forUser: $w) { id } }`,
				Variables: map[string]any{"w": veiltest.ID(f.user.ID)}})
			env.MustDo(examples["uploadContacts"].call(f))
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { withdrawConsent(purpose: CONTACTS) { withdrawn } }`})
			if r := env.Do(examples["uploadContacts"].call(f)); len(r.Errors) == 0 {
				t.Errorf("collection goes on after the minor withdrew: %s", r.Raw)
			}
			l, err := seed.EnsureListing(context.Background(), env.Store.Client, guardian.ID, "book", 1000, env.Clock)
			if err != nil {
				t.Fatal(err)
			}
			f.listing = l
			if r := env.Do(examples["createOrder"].call(f)); r.Code() != "MINOR_RESTRICTED" {
				t.Errorf("a minor trading: %s", r.Raw)
			}
		})
	})
}

// newMinor is a verified 16-year-old with no guardian.
func newMinor(t *testing.T, env *veiltest.Env) *fixture {
	u := newUser(t, env, true, 16)
	return &fixture{t: t, env: env, user: u, token: env.Token(u.ID)}
}

// TestAWardsOwnConsentNeverShadowsTheGuardians: a ward's own grants and
// acceptance never replace the guardian's, and for a ward the re-consent
// gate needs the guardian's acceptance of the new version.
func TestAWardsOwnConsentNeverShadowsTheGuardians(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		guardian := newUser(t, env, true, 45)
		gToken := env.Token(guardian.ID)
		for _, years := range []int{12, 16} {
			f := wardFixture(t, env, guardian, years, true)
			wardVar := map[string]any{"w": veiltest.ID(f.user.ID)}
			env.MustDo(veiltest.Request{Token: gToken, Query: `mutation($w: ID!) { grantConsent(purpose: DEVICE, forUser: $w) { id } }`, Variables: wardVar})
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { grantConsent(purpose: DEVICE) { id } }`})
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($v: String!) { acceptPolicy(version: $v) { id } }`,
				Variables: map[string]any{"v": seed.PolicyVersion}})
			if r := env.Do(examples["registerDevice"].call(f)); len(r.Errors) > 0 {
				t.Errorf("age %d: the ward's own grant shadows the guardian's: %s", years, r.Raw)
			}
			// The guardian's grant after the ward's own takes effect.
			g := wardFixture(t, env, guardian, years, true)
			env.MustDo(veiltest.Request{Token: g.token, Query: `mutation { grantConsent(purpose: DEVICE) { id } }`})
			env.MustDo(veiltest.Request{Token: gToken, Query: `mutation($w: ID!) { grantConsent(purpose: DEVICE, forUser: $w) { id } }`,
				Variables: map[string]any{"w": veiltest.ID(g.user.ID)}})
			if r := env.Do(examples["registerDevice"].call(g)); len(r.Errors) > 0 {
				t.Errorf("age %d: the guardian's grant after the ward's own: %s", years, r.Raw)
			}
		}

		ward := wardFixture(t, env, guardian, 16, true)
		admin := newUser(t, env, false, 0)
		env.Store.Client.User.UpdateOneID(admin.ID).SetRole("admin").ExecX(context.Background())
		env.MustDo(veiltest.Request{Token: env.Token(admin.ID), Query: `mutation { publishPolicyVersion(input: {version: "2026-09-01", major: true, summary: "s", text: "t"}) { version } }`})
		accept := veiltest.Request{Token: ward.token, Query: `mutation { acceptPolicy(version: "2026-09-01") { id } }`}
		env.MustDo(accept)
		if r := env.Do(examples["openSupportTicket"].call(ward)); r.Code() != "POLICY_RECONSENT_REQUIRED" {
			t.Errorf("a ward's own acceptance passes the re-consent gate: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: gToken, Query: `mutation($w: ID!) { acceptPolicy(version: "2026-09-01", forUser: $w) { id } }`,
			Variables: map[string]any{"w": veiltest.ID(ward.user.ID)}})
		env.MustDo(examples["openSupportTicket"].call(ward))
	})
}
