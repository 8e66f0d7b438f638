package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"veil/classification"
	"veil/ent"
	"veil/ent/auditevent"
	"veil/ent/user"
	"veil/gid"
	"veil/seed"
	"veil/staff"
	"veil/veiltest"
)

// TestAdminsManageStaffAccounts walks a staff account's life through the
// API: only admins may manage staff; a new account signs in with a code
// and has its role's purposes; a role change, a suspension and a removal
// each end its sessions at once, and a suspended or removed account
// cannot sign in; every step is audited; and the last active admin can be
// neither demoted, suspended nor removed.
func TestAdminsManageStaffAccounts(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		admin := w.Tokens["admin"]
		do := func(token, query string, vars map[string]any) veiltest.Response {
			t.Helper()
			return env.Do(veiltest.Request{Token: token, Query: query, Variables: vars})
		}
		create := `mutation($p: String!, $r: StaffRole!) { createStaffAccount(phone: $p, nickname: "客服小王", role: $r) { id role suspended open } }`
		for _, who := range []string{"support", "auditor", "adult"} {
			if r := do(w.Tokens[who], create, map[string]any{"p": "13912340000", "r": "ADMIN"}); r.Code() != "FORBIDDEN" {
				t.Errorf("%s created a staff account: %s", who, r.Raw)
			}
			if r := do(w.Tokens[who], `{ staffAccounts { id } }`, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("%s listed the staff accounts: %s", who, r.Raw)
			}
		}

		r := do(admin, create, map[string]any{"p": "13912340000", "r": "SUPPORT"})
		id, _ := veiltest.Dig(r.Data, "createStaffAccount.id").(string)
		if id == "" || veiltest.Dig(r.Data, "createStaffAccount.role") != "SUPPORT" {
			t.Fatalf("create: %s", r.Raw)
		}
		signIn := func() (string, veiltest.Response) {
			t.Helper()
			env.MustDo(veiltest.Request{Query: `mutation { requestLoginCode(phone: "13912340000") { expiresInSeconds } }`})
			env.Clock = env.Clock.Add(61e9) // past the per-number minute
			r := env.Do(veiltest.Request{Query: `mutation($c: String!) { login(phone: "13912340000", code: $c) { token } }`, Variables: map[string]any{"c": env.LastCode("13912340000")}})
			token, _ := veiltest.Dig(r.Data, "login.token").(string)
			return token, r
		}
		token, lr := signIn()
		if token == "" {
			t.Fatalf("the new staff account's sign-in: %s", lr.Raw)
		}
		if r := env.Do(veiltest.Request{Token: token, Purpose: string(classification.AfterSales), Query: `{ me { nickname } }`}); veiltest.Dig(r.Data, "me.nickname") != "客服小王" {
			t.Errorf("support with after_sales: %s", r.Raw)
		}

		// A role change ends its sessions; the new role is in the next one.
		if r := do(admin, `mutation($id: ID!) { changeStaffRole(id: $id, role: RISK) { role } }`, map[string]any{"id": id}); veiltest.Dig(r.Data, "changeStaffRole.role") != "RISK" {
			t.Fatalf("change role: %s", r.Raw)
		}
		if r := do(token, `{ me { nickname } }`, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("a session from before the role change: %s", r.Raw)
		}
		token, _ = signIn()
		if r := env.Do(veiltest.Request{Token: token, Purpose: string(classification.FraudInvestigation), Query: `{ me { nickname } }`}); len(r.Errors) > 0 {
			t.Errorf("risk with fraud_investigation after the change: %s", r.Raw)
		}

		// Suspension: sessions end, sign-in is refused, until reinstated.
		if r := do(admin, `mutation($id: ID!) { suspendStaffAccount(id: $id) { suspended } }`, map[string]any{"id": id}); veiltest.Dig(r.Data, "suspendStaffAccount.suspended") != true {
			t.Fatalf("suspend: %s", r.Raw)
		}
		if r := do(token, `{ me { nickname } }`, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("a session of a suspended account: %s", r.Raw)
		}
		if tok, r := signIn(); tok != "" || r.Code() != "UNAUTHENTICATED" {
			t.Errorf("a suspended account signed in: %s", r.Raw)
		}
		if r := do(admin, `mutation($id: ID!) { reinstateStaffAccount(id: $id) { suspended } }`, map[string]any{"id": id}); veiltest.Dig(r.Data, "reinstateStaffAccount.suspended") != false {
			t.Fatalf("reinstate: %s", r.Raw)
		}
		if token, _ = signIn(); token == "" {
			t.Fatal("a reinstated account could not sign in")
		}
		if r := do(admin, `{ staffAccounts { id nickname role } }`, nil); len(r.Errors) > 0 || len(veiltest.Dig(r.Data, "staffAccounts").([]any)) != 5 {
			t.Errorf("the list of staff accounts: %s", r.Raw)
		}

		// Removal: closed for good, the number free again.
		if r := do(admin, `mutation($id: ID!) { removeStaffAccount(id: $id) { open } }`, map[string]any{"id": id}); veiltest.Dig(r.Data, "removeStaffAccount.open") != false {
			t.Fatalf("remove: %s", r.Raw)
		}
		if r := do(token, `{ me { nickname } }`, nil); r.Code() == "" {
			t.Errorf("a session of a removed account: %s", r.Raw)
		}
		if r := do(admin, `mutation($id: ID!) { suspendStaffAccount(id: $id) { suspended } }`, map[string]any{"id": id}); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("a removed account suspended: %s", r.Raw)
		}
		if r := do(admin, create, map[string]any{"p": "13912340000", "r": "AUDITOR"}); len(r.Errors) > 0 {
			t.Errorf("the number of a removed account: %s", r.Raw)
		}

		// The last active admin stays one.
		adminID := veiltest.ID(w.Users["admin"].ID)
		for _, m := range []string{
			`mutation($id: ID!) { changeStaffRole(id: $id, role: SUPPORT) { role } }`,
			`mutation($id: ID!) { suspendStaffAccount(id: $id) { suspended } }`,
			`mutation($id: ID!) { removeStaffAccount(id: $id) { open } }`,
		} {
			if r := do(admin, m, map[string]any{"id": adminID}); r.Code() != "VALIDATION_FAILED" {
				t.Errorf("the last admin: %s", r.Raw)
			}
		}
		if r := do(admin, `{ me { nickname } }`, nil); len(r.Errors) > 0 {
			t.Errorf("the last admin's session after the refusals: %s", r.Raw)
		}

		// Staff cannot close their own accounts around the rules.
		for _, who := range []string{"admin", "support"} {
			if r := do(w.Tokens[who], `mutation { cancelAccount(confirm: true) { cancelled } }`, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("%s cancelled their staff account: %s", who, r.Raw)
			}
		}

		// A second admin demotes themself and goes on in the same
		// document: nothing after the demotion runs as an admin.
		second := do(admin, create, map[string]any{"p": "13912340001", "r": "ADMIN"})
		secondID, _ := veiltest.Dig(second.Data, "createStaffAccount.id").(string)
		secondRow, err := gid.Decode(secondID)
		if err != nil {
			t.Fatalf("a second admin: %s", second.Raw)
		}
		secondToken := env.Token(secondRow)
		r = do(secondToken, `mutation($id: ID!) { x: changeStaffRole(id: $id, role: SUPPORT) { role } y: createStaffAccount(phone: "13912340002", nickname: "后门", role: ADMIN) { id } }`, map[string]any{"id": secondID})
		if r.Code() != "UNAUTHENTICATED" || r.Errors[0].Path[0] != "y" {
			t.Errorf("acting after one's own demotion: %s", r.Raw)
		}
		sys := classification.AsSystem(context.Background())
		if n, _ := env.Store.Client.User.Query().Where(user.Phone("13912340002")).Count(sys); n != 0 {
			t.Error("an account was created after its creator's demotion")
		}
		if u, _ := env.Store.Client.User.Get(sys, secondRow); u == nil || u.Role != "support" {
			t.Errorf("the demotion itself: %+v", u)
		}
		// And a step of a request authenticated before its admin was
		// demoted elsewhere is refused, under the admin rows' lock.
		stale := classification.Viewer{UserID: secondRow, Role: classification.RoleAdmin}
		if _, err := staff.Create(context.Background(), env.Store.Client, stale, "13912340003", "后门", classification.RoleAdmin, env.Clock); err != staff.ErrNotAdmin {
			t.Errorf("a demoted admin's stale request created an account: %v", err)
		}

		ctx := classification.AsSystem(context.Background())
		for _, action := range []string{staff.Created, staff.RoleChange, staff.Suspended, staff.Reinstated, staff.Removed} {
			n, err := env.Store.Client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.ActorID(w.Users["admin"].ID)).Count(ctx)
			if err != nil || n == 0 {
				t.Errorf("no audit entry %s by the admin (%v)", action, err)
			}
		}
	})
}

// TestTwoAdminsCannotDemoteEachOther has the only two admins demote each
// other at the same moment, round after round (a new admin each round,
// against the one left from the last): exactly one admin remains.
func TestTwoAdminsCannotDemoteEachOther(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		left, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{Phone: "13900010000", Nickname: "管理员", Role: classification.RoleAdmin}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 8 {
			other, err := seed.EnsureUser(ctx, env.Store.Client, seed.Person{Phone: fmt.Sprintf("1390002%04d", round), Nickname: "管理员", Role: classification.RoleAdmin}, env.Clock)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, pair := range [][2]int{{left.ID, other.ID}, {other.ID, left.ID}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					v := classification.Viewer{UserID: pair[0], Role: classification.RoleAdmin}
					staff.ChangeRole(ctx, env.Store.Client, v, pair[1], classification.RoleSupport, env.Clock)
				}()
			}
			wg.Wait()
			accounts, err := staff.List(ctx, env.Store.Client)
			if err != nil {
				t.Fatal(err)
			}
			var admins []*ent.User
			for _, u := range accounts {
				if u.Role == "admin" {
					admins = append(admins, u)
				}
			}
			if len(admins) != 1 {
				t.Fatalf("round %d: %d admins left, want 1", round, len(admins))
			}
			left = admins[0]
		}
	})
}
