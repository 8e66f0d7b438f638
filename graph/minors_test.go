package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/guardianlink"
	"veil/idcard"
	"veil/identity"
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

// TestNobodyMakesThemselvesAGuardian tries the takeover of #12 against
// the link flow: a verified adult who knows only a victim's phone asks to
// be their guardian. The answer is the same for a victim, a staff account,
// a verified adult and a phone with no account; until the victim accepts
// from their own session the asker has no power, and sees nothing; the
// identity of the victim is never the asker's to give.
func TestNobodyMakesThemselvesAGuardian(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		attacker := newUser(t, env, true, 35)
		aToken := env.Token(attacker.ID)
		victim := newUser(t, env, false, 0)
		staff := newUser(t, env, false, 0)
		env.Store.Client.User.UpdateOneID(staff.ID).SetRole("support").ExecX(context.Background())
		adult := newUser(t, env, true, 30)
		ask := func(phone string) veiltest.Response {
			return env.Do(veiltest.Request{Token: aToken, Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { requested } }`,
				Variables: map[string]any{"p": phone}})
		}
		want := ask(victim.Phone)
		for name, phone := range map[string]string{"staff": staff.Phone, "verified adult": adult.Phone, "no account": freshPhone(), "again": victim.Phone} {
			if r := ask(phone); r.Raw != want.Raw {
				t.Errorf("asking for %s answers %s, for the victim %s", name, r.Raw, want.Raw)
			}
		}
		// The old takeover: an identity made up for the victim's account.
		r := env.Do(veiltest.Request{Token: aToken, Query: `mutation($in: LinkChildInput!) { linkChild(input: $in) { requested } }`,
			Variables: map[string]any{"in": map[string]any{"childPhone": victim.Phone, "realName": "假名字", "idNumber": "110105201401010018"}}})
		if r.Code() != "VALIDATION_FAILED" {
			t.Errorf("linking with an identity for someone else's account: %s", r.Raw)
		}
		for _, who := range []*ent.User{staff, adult} {
			r := env.MustDo(veiltest.Request{Token: env.Token(who.ID), Query: `{ me { guardianLinks { id } } }`})
			if links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any); len(links) != 0 {
				t.Errorf("a request reached an account that cannot take a guardian: %s", r.Raw)
			}
		}

		victimVar := map[string]any{"w": veiltest.ID(victim.ID)}
		powerless := func(when string) {
			t.Helper()
			for _, p := range guardianProbes[2:] {
				req := p.req(victim)
				req.Token = aToken
				if r := env.Do(req); r.Code() != "FORBIDDEN" {
					t.Errorf("%s: the asker may %s: %s", when, p.power, r.Raw)
				}
			}
			r := env.MustDo(veiltest.Request{Token: aToken, Query: `query($w: ID!) { node(id: $w) { id } }`, Variables: victimVar})
			if r.Raw != `{"data":{"node":null}}` {
				t.Errorf("%s: the asker sees the victim: %s", when, r.Raw)
			}
			r = env.MustDo(veiltest.Request{Token: aToken, Query: `{ me { guardedLinks { id } } }`})
			if links, _ := veiltest.Dig(r.Data, "me.guardedLinks").([]any); len(links) != 0 {
				t.Errorf("%s: the asker sees a guardianship: %s", when, r.Raw)
			}
		}
		powerless("before an answer")

		vToken := env.Token(victim.ID)
		r = env.MustDo(veiltest.Request{Token: vToken, Query: `{ me { ageGroup guardianLinks { id status requesterNickname requesterPhone } } }`})
		links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any)
		if len(links) != 1 || veiltest.Dig(links[0], "requesterPhone") != attacker.Phone[:3]+"****"+attacker.Phone[7:] {
			t.Fatalf("the victim does not see one request naming the asker: %s", r.Raw)
		}
		linkID := veiltest.Dig(links[0], "id")
		// Nobody else answers for the victim.
		r = env.Do(veiltest.Request{Token: aToken, Query: `mutation($id: ID!) { answerGuardianRequest(requestId: $id, accept: true, code: "00000000") { id } }`,
			Variables: map[string]any{"id": linkID}})
		if r.Code() != "FORBIDDEN" {
			t.Errorf("the asker answers their own request: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: vToken, Query: `mutation($id: ID!) { answerGuardianRequest(requestId: $id, accept: false) { status } }`,
			Variables: map[string]any{"id": linkID}})
		powerless("after the victim declined")
		if r := env.Do(examples["openSupportTicket"].call(&fixture{t: t, env: env, user: victim, token: vToken})); len(r.Errors) > 0 {
			t.Errorf("the victim can no longer write: %s", r.Raw)
		}
		if u := env.Store.Client.User.GetX(context.Background(), victim.ID); u.GuardianID != nil || u.BirthDate != nil || u.RealName != "" {
			t.Errorf("the victim's account was changed: %+v", u)
		}

		t.Run("an accepted guardianship is seen by both and ended by either", func(t *testing.T) {
			guardian := newUser(t, env, true, 40)
			gToken := env.Token(guardian.ID)
			child := newUser(t, env, false, 0)
			cToken := env.Token(child.ID)
			id := linkAsGuardian(t, env, gToken, cToken, child.Phone)
			r := env.MustDo(veiltest.Request{Token: gToken, Query: `{ me { guardedLinks { id status } } }`})
			if first(r, "me.guardedLinks", "status") != "ACTIVE" {
				t.Errorf("the guardian does not see the guardianship: %s", r.Raw)
			}
			r = env.MustDo(veiltest.Request{Token: cToken, Query: `mutation($id: ID!) { endGuardianship(linkId: $id) { status endReason } }`,
				Variables: map[string]any{"id": id}})
			if veiltest.Dig(r.Data, "endGuardianship.endReason") != "BY_WARD" {
				t.Errorf("ending: %s", r.Raw)
			}
			r = env.MustDo(veiltest.Request{Token: gToken, Query: `{ me { guardedLinks { status endReason } } }`})
			if first(r, "me.guardedLinks", "endReason") != "BY_WARD" {
				t.Errorf("the guardian does not see the end: %s", r.Raw)
			}
			var active int
			env.Store.DB.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM consents WHERE user_id = %d AND granted_by = %d AND withdrawn_at IS NULL", child.ID, guardian.ID)).Scan(&active)
			if active != 0 {
				t.Errorf("%d consents of the former guardian still active", active)
			}
		})
	})
}

// TestRealNameSubmissionIsNoOracle: a number verified on another account
// and a number the verifier does not match answer alike, and attempts are
// limited per account.
func TestRealNameSubmissionIsNoOracle(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		owner := newUser(t, env, true, 30)
		prober := newUser(t, env, false, 0)
		token := env.Token(prober.ID)
		env.MustDo(veiltest.Request{Token: token, Query: `mutation { grantConsent(purpose: REAL_NAME) { id } }`})
		submit := func(name, number string) veiltest.Response {
			return env.Do(veiltest.Request{Token: token, Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"realName": name, "idNumber": number}}})
		}
		taken := submit(owner.RealName, owner.IDNumber)
		mismatch := submit("钱多多", idcard.Make("110105", seed.YearsAgo(env.Clock, 30, 0), 999))
		if taken.Raw != mismatch.Raw || taken.Code() != "VALIDATION_FAILED" {
			t.Errorf("a registered number answers %s, a mismatch %s", taken.Raw, mismatch.Raw)
		}
		for range identity.MaxRealNameAttempts - 2 {
			submit("钱多多", idcard.Make("110105", seed.YearsAgo(env.Clock, 30, 0), 999))
		}
		if r := submit("钱多多", idcard.Make("110105", seed.YearsAgo(env.Clock, 31, 0), 5)); r.Code() != "RATE_LIMITED" {
			t.Errorf("attempt %d: %s", identity.MaxRealNameAttempts+1, r.Raw)
		}
	})
}

// first digs field out of the first element of the list at path.
func first(r veiltest.Response, path, field string) any {
	list, _ := veiltest.Dig(r.Data, path).([]any)
	if len(list) == 0 {
		return nil
	}
	return veiltest.Dig(list[0], field)
}

// TestAGuardiansCancellationHoldsTheIdentity: when a guardian cancels
// their ward's account, the guardianship ends, and the
// ward's ID number stays taken during the hold: no other account verifies
// with it, even with a guardian's consent.
func TestAGuardiansCancellationHoldsTheIdentity(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		guardian := newUser(t, env, true, 40)
		ward := newWard(t, env, guardian, seed.YearsAgo(env.Clock, 12, 0), 700)
		env.MustDo(veiltest.Request{Token: env.Token(guardian.ID), Query: `mutation($w: ID!) { cancelAccount(confirm: true, forUser: $w) { cancelled } }`,
			Variables: map[string]any{"w": veiltest.ID(ward.ID)}})
		// What is kept of a cancelled account, its guardianship included, is
		// for a legal hold only: the end is in the store, not shown.
		var reason string
		env.Store.DB.QueryRow(fmt.Sprintf("SELECT end_reason FROM guardian_links WHERE child_id = %d", ward.ID)).Scan(&reason)
		if reason != "ACCOUNT_CANCELLED" {
			t.Errorf("the guardianship of a cancelled ward ended as %q", reason)
		}

		other := newUser(t, env, true, 38)
		taker, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{Phone: freshPhone(), Nickname: "taker", GuardianID: other.ID}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []classification.ConsentPurpose{classification.ConsentAccount, classification.ConsentRealName} {
			if err := seed.EnsureConsent(ctx, env.Store.Client, taker.ID, p, other.ID, env.Clock); err != nil {
				t.Fatal(err)
			}
		}
		r := env.Do(veiltest.Request{Token: env.Token(taker.ID), Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }`,
			Variables: map[string]any{"in": map[string]any{"realName": ward.RealName, "idNumber": ward.IDNumber}}})
		if r.Code() != "VALIDATION_FAILED" {
			t.Errorf("the cancelled ward's identity is taken by another account: %s", r.Raw)
		}
	})
}

// TestAGuardiansConsentsEndAt18: what a guardian consented to for a ward
// does not count once the ward is an adult; the adult consents themself.
func TestAGuardiansConsentsEndAt18(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		guardian := newUser(t, env, true, 45)
		w := newWard(t, env, guardian, seed.YearsAgo(env.Clock, 18, -20), 800) // 18 in 20 days
		f := &fixture{t: t, env: env, user: w, token: env.Token(w.ID)}
		if err := seed.EnsureConsent(context.Background(), env.Store.Client, f.user.ID, classification.ConsentContacts, guardian.ID, env.Clock); err != nil {
			t.Fatal(err)
		}
		env.MustDo(examples["uploadContacts"].call(f))
		env.Clock = env.Clock.AddDate(0, 0, 21)
		defer func() { env.Clock = veiltest.Now }()
		if r := env.Do(examples["uploadContacts"].call(f)); r.Code() != "CONSENT_REQUIRED" {
			t.Errorf("an adult's address book on their former guardian's consent: %s", r.Raw)
		}
		f.grant(classification.ConsentContacts)
		env.MustDo(examples["uploadContacts"].call(f))
	})
}

// TestEditsAnswerWithTheirEdges: what correctMyData and submitRealName
// return can be read further, edges included.
func TestEditsAnswerWithTheirEdges(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, false)
		f.grant(classification.ConsentRealName)
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { correctMyData(input: {nickname: "新名字"}) { id consents { id } guardianLinks { id } } }`})
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { id consents { id } } }`,
			Variables: map[string]any{"in": map[string]any{"realName": "赵六", "idNumber": idcard.Make("310104", seed.YearsAgo(env.Clock, 30, 0), 77)}}})
	})
}

// TestGuardianRequestsCountWhateverTheyFind: every request counts against
// the daily limit, so the limit tells nothing of the phones asked for.
func TestGuardianRequestsCountWhateverTheyFind(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		asker := env.Token(newUser(t, env, true, 35).ID)
		ask := func(phone string) veiltest.Response {
			return env.Do(veiltest.Request{Token: asker, Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { requested } }`,
				Variables: map[string]any{"p": phone}})
		}
		for range identity.MaxLinkRequests {
			if r := ask(freshPhone()); len(r.Errors) > 0 {
				t.Fatal(r.Raw)
			}
		}
		target := newUser(t, env, false, 0)
		if r := ask(target.Phone); r.Code() != "RATE_LIMITED" {
			t.Errorf("a request past the limit, to an account that can take a guardian: %s", r.Raw)
		}
		r := env.MustDo(veiltest.Request{Token: env.Token(target.ID), Query: `{ me { guardianLinks { id } } }`})
		if links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any); len(links) != 0 {
			t.Errorf("a request past the limit reached the account: %s", r.Raw)
		}
	})
}

// TestNobodyPassesForTheGuardian: an impostor who copies a guardian's
// nickname and masked phone asks too; the ward, holding the pairing code
// the real guardian was given, cannot accept the impostor's request with
// it, and three wrong codes decline that request.
func TestNobodyPassesForTheGuardian(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ward := newUser(t, env, false, 0)
		wToken := env.Token(ward.ID)
		var codes []string
		for range 2 {
			r := env.MustDo(veiltest.Request{Token: env.Token(newUser(t, env, true, 40).ID), Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { code } }`,
				Variables: map[string]any{"p": ward.Phone}})
			codes = append(codes, veiltest.Dig(r.Data, "linkChild.code").(string))
		}
		r := env.MustDo(veiltest.Request{Token: wToken, Query: `{ me { guardianLinks { id } } }`})
		links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any)
		if len(links) != 2 {
			t.Fatalf("want two requests: %s", r.Raw)
		}
		impostor := veiltest.Dig(links[1], "id")
		answer := `mutation($id: ID!, $code: String) { answerGuardianRequest(requestId: $id, accept: true, code: $code) { status } }`
		for i := range identity.MaxPairingAttempts {
			r := env.Do(veiltest.Request{Token: wToken, Query: answer, Variables: map[string]any{"id": impostor, "code": codes[0]}})
			if r.Code() != "VALIDATION_FAILED" {
				t.Errorf("attempt %d with the other request's code: %s", i+1, r.Raw)
			}
		}
		r = env.Do(veiltest.Request{Token: wToken, Query: answer, Variables: map[string]any{"id": impostor, "code": codes[1]}})
		if r.Code() != "FORBIDDEN" {
			t.Errorf("the request is still open after %d wrong codes: %s", identity.MaxPairingAttempts, r.Raw)
		}
		r = env.MustDo(veiltest.Request{Token: wToken, Query: answer, Variables: map[string]any{"id": veiltest.Dig(links[0], "id"), "code": codes[0]}})
		if veiltest.Dig(r.Data, "answerGuardianRequest.status") != "ACTIVE" {
			t.Errorf("the real guardian's request with its code: %s", r.Raw)
		}
	})
}

// TestGuardianshipRacesHold fires requests at the same moment: one
// adult's requests past the daily limit, and a ward accepting two
// guardians at once. The limit holds, and one guardianship at most
// becomes active.
func TestGuardianshipRacesHold(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		asker := env.Token(newUser(t, env, true, 35).ID)
		var wg sync.WaitGroup
		for range 3 * identity.MaxLinkRequests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env.Do(veiltest.Request{Token: asker, Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { requested } }`,
					Variables: map[string]any{"p": newUser(t, env, false, 0).Phone}})
			}()
		}
		wg.Wait()
		if n := env.Store.Client.GuardianLink.Query().CountX(context.Background()); n > identity.MaxLinkRequests {
			t.Errorf("%d requests recorded, over the limit of %d", n, identity.MaxLinkRequests)
		}

		ward := newUser(t, env, false, 0)
		wToken := env.Token(ward.ID)
		var answers []map[string]any
		for range 2 {
			r := env.MustDo(veiltest.Request{Token: env.Token(newUser(t, env, true, 40).ID), Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { code } }`,
				Variables: map[string]any{"p": ward.Phone}})
			answers = append(answers, map[string]any{"code": veiltest.Dig(r.Data, "linkChild.code")})
		}
		r := env.MustDo(veiltest.Request{Token: wToken, Query: `{ me { guardianLinks { id } } }`})
		links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any)
		for i := range answers {
			answers[i]["id"] = veiltest.Dig(links[i], "id")
		}
		for range 2 {
			for _, vars := range answers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					env.Do(veiltest.Request{Token: wToken, Query: `mutation($id: ID!, $code: String) { answerGuardianRequest(requestId: $id, accept: true, code: $code) { status } }`, Variables: vars})
				}()
			}
		}
		wg.Wait()
		active := env.Store.Client.GuardianLink.Query().Where(guardianlink.ChildID(ward.ID), guardianlink.StatusEQ(guardianlink.StatusACTIVE)).CountX(context.Background())
		if active != 1 {
			t.Errorf("%d active guardianships of one ward", active)
		}
	})
}
