package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/ent/order"
	"veil/idcard"
	"veil/seed"
	"veil/veiltest"
)

// TestWithdrawingConsentStopsCollectionAtOnce withdraws a consent between
// two calls of one session: the next call is refused, and what was
// collected before stays.
func TestWithdrawingConsentStopsCollectionAtOnce(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		grant := veiltest.Request{Token: f.token, Query: `mutation { grantConsent(purpose: CONTACTS) { policyVersion } }`}
		if r := env.MustDo(grant); veiltest.Dig(r.Data, "grantConsent.policyVersion") != seed.PolicyVersion {
			t.Errorf("consent recorded under %v", veiltest.Dig(r.Data, "grantConsent.policyVersion"))
		}
		upload := examples["uploadContacts"].call(f)
		env.MustDo(upload)
		r := env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { withdrawConsent(purpose: CONTACTS) { withdrawn consent { withdrawnAt } } }`})
		if veiltest.Dig(r.Data, "withdrawConsent.withdrawn") != true || veiltest.Dig(r.Data, "withdrawConsent.consent.withdrawnAt") == nil {
			t.Fatalf("withdrawal not recorded: %s", r.Raw)
		}
		if r := env.Do(upload); r.Code() != "CONSENT_REQUIRED" {
			t.Errorf("upload after withdrawal: %s", r.Raw)
		}
		me := env.MustDo(veiltest.Request{Token: f.token, Query: `{ me { contacts { name } consents { purpose withdrawnAt } } }`})
		if n := len(veiltest.Dig(me.Data, "me.contacts").([]any)); n != 3 {
			t.Errorf("%d contacts after withdrawal, want the 3 collected before", n)
		}
		t.Run("a consent the basic service does not need never blocks it", func(t *testing.T) {
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { withdrawConsent(purpose: LOCATION) { withdrawn } }`})
			env.MustDo(examples["createOrder"].call(f))
			env.MustDo(examples["openSupportTicket"].call(f))
		})
	})
}

// TestTradingNeedsRealNameAndAdulthood checks the trading rule with the
// request clock: the day before the 18th birthday trading is refused, on
// the birthday it works, with no change to the data.
func TestTradingNeedsRealNameAndAdulthood(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		t.Run("without real name", func(t *testing.T) {
			f := newFixture(t, env, false)
			if r := env.Do(examples["createOrder"].call(f)); r.Code() != "REAL_NAME_REQUIRED" {
				t.Errorf("got %s", r.Raw)
			}
		})
		t.Run("turning 18", func(t *testing.T) {
			f := newFixture(t, env, false)
			birthday := seed.YearsAgo(env.Clock, 18, -1) // 18 tomorrow
			id := idcard.Make("440305", birthday, 7)
			env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { grantConsent(purpose: REAL_NAME) { id } }`})
			r := env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { ageGroup } }`,
				Variables: map[string]any{"in": map[string]any{"realName": "钱七", "idNumber": id}}})
			if got := veiltest.Dig(r.Data, "submitRealName.ageGroup"); got != "MINOR" {
				t.Fatalf("ageGroup = %v, want MINOR", got)
			}
			if r := env.Do(examples["createOrder"].call(f)); r.Code() != "MINOR_RESTRICTED" {
				t.Errorf("the day before the 18th birthday: %s", r.Raw)
			}
			env.Clock = env.Clock.Add(24 * time.Hour)
			defer func() { env.Clock = veiltest.Now }()
			if r := env.Do(examples["createOrder"].call(f)); len(r.Errors) > 0 {
				t.Errorf("on the 18th birthday: %s", r.Raw)
			}
		})
	})
}

// TestChildrenNeedTheirGuardian walks the under-14 rules: nothing beyond
// the login phone before a guardian consents, the guardian links, consents
// and reads raw, and a child's own consent does not count.
func TestChildrenNeedTheirGuardian(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		child := newUser(t, env, false, 0)
		childToken := env.Token(child.ID)
		guardian := newUser(t, env, true, 40)
		guardianToken := env.Token(guardian.ID)
		childID := idcard.Make("510104", seed.YearsAgo(env.Clock, 12, 3), 41)
		submit := veiltest.Request{Token: childToken, Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { id } }`,
			Variables: map[string]any{"in": map[string]any{"realName": "孙小八", "idNumber": childID}}}

		env.MustDo(veiltest.Request{Token: childToken, Query: `mutation { grantConsent(purpose: REAL_NAME) { id } }`})
		if r := env.Do(submit); r.Code() != "GUARDIAN_CONSENT_REQUIRED" {
			t.Fatalf("a child's own real-name submission: %s", r.Raw)
		}
		if u, _ := env.Store.Client.User.Get(ctx, child.ID); u.RealName != "" || u.BirthDate != nil {
			t.Fatal("the child's real name was stored without a guardian's consent")
		}

		// The guardian asks; the child accepts from their own session, then
		// verifies their own real name on the guardian's consent.
		linkAsGuardian(t, env, guardianToken, childToken, child.Phone)
		if r := env.MustDo(submit); veiltest.Dig(r.Data, "submitRealName.id") == nil {
			t.Fatalf("the child's verification after the guardian's consent: %s", r.Raw)
		}
		r := env.MustDo(veiltest.Request{Token: guardianToken, Query: `query($c: ID!) { node(id: $c) { ... on User { ageGroup realName } } }`,
			Variables: map[string]any{"c": veiltest.ID(child.ID)}})
		if veiltest.Dig(r.Data, "node.ageGroup") != "CHILD" || veiltest.Dig(r.Data, "node.realName") != "孙小八" {
			t.Errorf("the guardian does not see the child raw: %s", r.Raw)
		}

		device := examples["registerDevice"]
		childFixture := &fixture{t: t, env: env, user: child, token: childToken}
		env.MustDo(veiltest.Request{Token: childToken, Query: `mutation { grantConsent(purpose: DEVICE) { id } }`})
		if r := env.Do(device.call(childFixture)); r.Code() != "GUARDIAN_CONSENT_REQUIRED" || r.Errors[0].Extensions["purpose"] != "DEVICE" {
			t.Errorf("device with only the child's own consent: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: guardianToken, Query: `mutation($c: ID!) { grantConsent(purpose: DEVICE, forUser: $c) { id } }`,
			Variables: map[string]any{"c": veiltest.ID(child.ID)}})
		env.MustDo(device.call(childFixture))

		stranger := env.Token(newUser(t, env, true, 30).ID)
		r = env.Do(veiltest.Request{Token: stranger, Query: `mutation($c: ID!) { grantConsent(purpose: DEVICE, forUser: $c) { id } }`,
			Variables: map[string]any{"c": veiltest.ID(child.ID)}})
		if r.Code() != "FORBIDDEN" {
			t.Errorf("a stranger acting for the child: %s", r.Raw)
		}
		r = env.MustDo(veiltest.Request{Token: stranger, Query: `query($c: ID!) { node(id: $c) { ... on User { nickname phone realName } } }`,
			Variables: map[string]any{"c": veiltest.ID(child.ID)}})
		if veiltest.Dig(r.Data, "node.phone") != nil || veiltest.Dig(r.Data, "node.realName") != nil {
			t.Errorf("a stranger sees a child's personal data: %s", r.Raw)
		}
		if r := env.Do(veiltest.Request{Token: childToken, Query: `mutation($in: CreateOrderInput!) { createOrder(input: $in) { id } }`,
			Variables: map[string]any{"in": map[string]any{"listingId": veiltest.ID(1), "recipientPhone": "13600136000"}}}); r.Code() != "MINOR_RESTRICTED" {
			t.Errorf("a child trading: %s", r.Raw)
		}
	})
}

// linkAsGuardian makes the user of guardianToken the guardian of the
// account of wardToken, both sides acting: the guardian asks with the
// ward's phone, the ward accepts the request it finds in its own session
// with the pairing code the guardian was given.
func linkAsGuardian(t *testing.T, env *veiltest.Env, guardianToken, wardToken, wardPhone string) (linkID string) {
	t.Helper()
	asked := env.MustDo(veiltest.Request{Token: guardianToken, Query: `mutation($p: String!) { linkChild(input: {childPhone: $p}) { requested code } }`,
		Variables: map[string]any{"p": wardPhone}})
	code := veiltest.Dig(asked.Data, "linkChild.code")
	r := env.MustDo(veiltest.Request{Token: wardToken, Query: `{ me { guardianLinks { id status } } }`})
	links, _ := veiltest.Dig(r.Data, "me.guardianLinks").([]any)
	for _, l := range links {
		if veiltest.Dig(l, "status") == "PENDING" {
			linkID, _ = veiltest.Dig(l, "id").(string)
		}
	}
	if linkID == "" {
		t.Fatalf("the ward sees no pending request: %s", r.Raw)
	}
	r = env.MustDo(veiltest.Request{Token: wardToken, Query: `mutation($id: ID!, $code: String) { answerGuardianRequest(requestId: $id, accept: true, code: $code) { status guardian { id } } }`,
		Variables: map[string]any{"id": linkID, "code": code}})
	if veiltest.Dig(r.Data, "answerGuardianRequest.status") != "ACTIVE" || veiltest.Dig(r.Data, "answerGuardianRequest.guardian.id") == nil {
		t.Fatalf("accepting: %s", r.Raw)
	}
	return linkID
}

// TestMajorPolicyVersionNeedsReconsent publishes a major version: ordinary
// operations stop until the user accepts it; essential ones go on.
func TestMajorPolicyVersionNeedsReconsent(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		f.grant(classification.ConsentDevice)
		admin, err := seed.EnsureUser(context.Background(), env.Store.Client, seed.Person{Phone: "13900000003", Role: classification.RoleAdmin}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		env.Clock = env.Clock.Add(time.Hour)
		defer func() { env.Clock = veiltest.Now }()
		env.MustDo(veiltest.Request{Token: env.Token(admin.ID), Query: `mutation { publishPolicyVersion(input: {version: "2026-07-01", major: true, summary: "new sharing partner", text: "..."}) { version } }`})

		if r := env.Do(examples["registerDevice"].call(f)); r.Code() != "POLICY_RECONSENT_REQUIRED" {
			t.Errorf("ordinary operation before accepting: %s", r.Raw)
		}
		for _, q := range []string{
			`{ policyVersions { totalCount } }`,
			`mutation { withdrawConsent(purpose: MARKETING) { withdrawn } }`,
		} {
			env.MustDo(veiltest.Request{Token: f.token, Query: q})
		}
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { acceptPolicy(version: "2026-07-01") { policyVersion } }`})
		env.MustDo(examples["registerDevice"].call(f))
	})
}

// TestSellerSeesRecipientPhoneOnlyWhileFulfilling follows an order from
// payment to completion as the seller sees it.
func TestSellerSeesRecipientPhoneOnlyWhileFulfilling(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		o := f.order(order.StatusCREATED)
		sellerToken := env.Token(f.listing.SellerID)
		look := func() map[string]any {
			r := env.MustDo(veiltest.Request{Token: sellerToken, Query: `query($id: ID!) { node(id: $id) { ... on Order { orderNo recipientPhone buyer { nickname phone realName } } } }`,
				Variables: map[string]any{"id": veiltest.ID(o.ID)}})
			return r.Data["node"].(map[string]any)
		}
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($id: ID!) { payOrder(orderId: $id) { status } }`, Variables: map[string]any{"id": veiltest.ID(o.ID)}})
		got := look()
		if got["recipientPhone"] != o.RecipientPhone || got["orderNo"] != o.OrderNo {
			t.Errorf("while fulfilling, the seller sees %v", got)
		}
		buyer := got["buyer"].(map[string]any)
		if buyer["nickname"] != "tester" || buyer["phone"] == f.user.Phone || buyer["realName"] == "测试者" {
			t.Errorf("the seller sees more of the buyer than the public profile: %v", buyer)
		}
		records, err := env.Store.Client.SharingRecord.Query().All(context.Background())
		if err != nil || len(records) != 1 || records[0].UserID != f.user.ID {
			t.Fatalf("payment recorded %d sharing records (%v)", len(records), err)
		}
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($id: ID!) { completeOrder(orderId: $id) { status } }`, Variables: map[string]any{"id": veiltest.ID(o.ID)}})
		got = look()
		if got["recipientPhone"] == o.RecipientPhone || got["recipientPhone"] == nil || got["orderNo"] != o.OrderNo {
			t.Errorf("after completion, the seller sees %v", got)
		}
	})
}

// TestEveryQueryFieldAnswers asks every root query field, as an admin and
// anonymously: none may fail with INTERNAL (an unimplemented resolver).
func TestEveryQueryFieldAnswers(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range gqlSchema.Query.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue
			}
			args := ""
			for _, a := range f.Arguments {
				if a.Type.NonNull {
					switch a.Type.String() {
					case "ID!":
						args += a.Name + `: "1" `
					case "[ID!]!":
						args += a.Name + `: ["1"] `
					case "String!":
						args += a.Name + `: "1" `
					default:
						t.Fatalf("%s: no value for required argument %s %s", f.Name, a.Name, a.Type)
					}
				}
			}
			if args != "" {
				args = "(" + args + ")"
			}
			q := "{ " + f.Name + args + subSelectionOrTypename(f) + " }"
			for _, token := range []string{"", w.Tokens["admin"]} {
				if r := env.Do(veiltest.Request{Token: token, Query: q}); r.Code() == "INTERNAL" {
					t.Errorf("%s: %s", q, r.Raw)
				}
			}
		}
	})
}

func subSelectionOrTypename(f *ast.FieldDefinition) string {
	if s := subSelection(f); s != "" {
		return s
	}
	if def := gqlSchema.Types[f.Type.Name()]; def.Kind == ast.Object || def.Kind == ast.Interface {
		return " { __typename }"
	}
	return ""
}

// TestThirdPartySharingConsentIsPerRecipient grants sharing with two
// recipients and withdraws one: the other stays.
func TestThirdPartySharingConsentIsPerRecipient(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		grant := `mutation($p: ConsentPurpose!, $r: String) { grantConsent(purpose: $p, recipient: $r) { recipient } }`
		do := func(p string, r any) veiltest.Response {
			return env.Do(veiltest.Request{Token: f.token, Query: grant, Variables: map[string]any{"p": p, "r": r}})
		}
		if r := do("THIRD_PARTY_SHARING", nil); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != "recipient" {
			t.Errorf("sharing consent without a recipient: %s", r.Raw)
		}
		if r := do("MARKETING", "Umeng"); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("a recipient on a marketing consent: %s", r.Raw)
		}
		for _, recipient := range []string{"Umeng", "JIGUANG"} {
			if r := do("THIRD_PARTY_SHARING", recipient); len(r.Errors) > 0 || veiltest.Dig(r.Data, "grantConsent.recipient") != recipient {
				t.Fatalf("grant for %s: %s", recipient, r.Raw)
			}
		}
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation { withdrawConsent(purpose: THIRD_PARTY_SHARING, recipient: "Umeng") { withdrawn } }`})
		me := env.MustDo(veiltest.Request{Token: f.token, Query: `{ me { consents { purpose recipient withdrawnAt } } }`})
		active := map[string]bool{}
		for _, c := range veiltest.Dig(me.Data, "me.consents").([]any) {
			c := c.(map[string]any)
			if c["purpose"] == "THIRD_PARTY_SHARING" {
				active[c["recipient"].(string)] = c["withdrawnAt"] == nil
			}
		}
		if active["Umeng"] || !active["JIGUANG"] {
			t.Errorf("active sharing consents after withdrawing Umeng: %v", active)
		}
	})
}

// TestNodeHidesTypesOutsideTheSchema asks node and nodes for the IDs of a
// session and a login code: they read as absent, not as errors.
func TestNodeHidesTypesOutsideTheSchema(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		ctx := context.Background()
		sess, err := env.Store.Client.Session.Query().First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Accounts.RequestCode(ctx, freshPhone()); err != nil {
			t.Fatal(err)
		}
		code, err := env.Store.Client.LoginCode.Query().First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int{sess.ID, code.ID} {
			r := env.MustDo(veiltest.Request{Token: f.token, Query: `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`,
				Variables: map[string]any{"id": veiltest.ID(id)}})
			if r.Data["node"] != nil || veiltest.Dig(r.Data, "nodes").([]any)[0] != nil {
				t.Errorf("id %d resolved: %s", id, r.Raw)
			}
		}
	})
}
