package graph_test

import (
	"crypto/rand"

	"context"
	"encoding/base64"
	"fmt"
	"golang.org/x/crypto/nacl/box"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ent/guardianlink"
	"veil/ent/order"
	"veil/ent/ratebucket"
	"veil/idcard"
	"veil/seed"
	"veil/veiltest"
)

// fixture is a fresh world for one mutation call: a caller, a seller with
// a listing, and whatever the example sets up.
type fixture struct {
	t       *testing.T
	env     *veiltest.Env
	user    *ent.User
	token   string
	listing *ent.Listing
}

var phoneSeq atomic.Int64

func freshPhone() string { return fmt.Sprintf("135%08d", phoneSeq.Add(1)) }

// adminToken signs in the demo's admin.
func adminToken(f *fixture) string {
	admin, err := seed.EnsureUser(context.Background(), f.env.Store.Client, seed.Person{Phone: "13900000003", Nickname: "管理员", Role: classification.RoleAdmin}, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.env.Token(admin.ID)
}

// newStaff seeds a support account and returns its ID.
func newStaff(f *fixture) int {
	u, err := seed.EnsureUser(context.Background(), f.env.Store.Client, seed.Person{Phone: freshPhone(), Nickname: "客服", Role: classification.RoleSupport}, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

// newUser seeds an account with the current policy accepted. verified
// gives it a real name and ID number of someone born years ago.
func newUser(t *testing.T, env *veiltest.Env, verified bool, years int) *ent.User {
	t.Helper()
	ctx := context.Background()
	p := seed.Person{Phone: freshPhone(), Nickname: "tester"}
	if verified {
		p.RealName, p.Birth, p.Seq = "测试者", seed.YearsAgo(env.Clock, years, 10), int(phoneSeq.Load()%900)
	}
	u, err := seed.EnsureUser(ctx, env.Store.Client, p, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.EnsureConsent(ctx, env.Store.Client, u.ID, classification.ConsentAccount, 0, env.Clock); err != nil {
		t.Fatal(err)
	}
	return u
}

func newFixture(t *testing.T, env *veiltest.Env, verified bool) *fixture {
	t.Helper()
	u := newUser(t, env, verified, 30)
	seller := newUser(t, env, true, 40)
	l, err := seed.EnsureListing(context.Background(), env.Store.Client, seller.ID, "listing", 1999, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, env: env, user: u, token: env.Token(u.ID), listing: l}
}

func (f *fixture) grant(purposes ...classification.ConsentPurpose) {
	f.t.Helper()
	for _, p := range purposes {
		if err := seed.EnsureConsent(context.Background(), f.env.Store.Client, f.user.ID, p, 0, f.env.Clock); err != nil {
			f.t.Fatal(err)
		}
	}
}

// exampleCode is the pairing code of the requests guardianLink seeds.
const exampleCode = "12345678"

// guardianLink seeds a guardianship request from guardian to ward, or with
// active an accepted guardianship.
func (f *fixture) guardianLink(guardian, ward *ent.User, active bool) *ent.GuardianLink {
	f.t.Helper()
	ctx := classification.AsSystem(context.Background())
	index, err := crypt.BlindIndex("guardian_links.code", exampleCode)
	if err != nil {
		f.t.Fatal(err)
	}
	create := f.env.Store.Client.GuardianLink.Create().SetChildID(ward.ID).SetRequestedBy(guardian.ID).
		SetRequesterNickname(guardian.Nickname).SetRequesterPhone("135****0000").SetCodeIndex(index).SetRequestedAt(f.env.Clock)
	if active {
		create.SetGuardianID(guardian.ID).SetStatus(guardianlink.StatusACTIVE).SetAnsweredAt(f.env.Clock)
		f.env.Store.Client.User.UpdateOneID(ward.ID).SetGuardianID(guardian.ID).ExecX(ctx)
	}
	return create.SaveX(ctx)
}

func (f *fixture) order(status order.Status) *ent.Order {
	f.t.Helper()
	o, err := seed.EnsureOrder(context.Background(), f.env.Store.Client, "T-"+freshPhone(), f.user, f.listing, status, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

// authorityKey is an authority's X25519 public key.
var authorityKey = func() string {
	pub, _, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(pub[:])
}()

// legalDemand is a demand of authority for user's contact details.
func legalDemand(user int, authority string) map[string]any {
	return map[string]any{"user": veiltest.ID(user), "authority": authority, "documentReference": "DOC-1", "classes": []any{"contact"},
		"recipientKey": authorityKey, "notifySubject": true}
}

// sold seeds an order of the fixture's own listing by another buyer: the
// fixture's user is its seller.
func (f *fixture) sold(status order.Status) *ent.Order {
	f.t.Helper()
	ctx := context.Background()
	c := f.env.Store.Client
	mine, err := seed.EnsureListing(ctx, c, f.user.ID, "listing of "+f.user.Phone, 5000, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	buyer, err := seed.EnsureUser(ctx, c, seed.Person{Phone: freshPhone(), Nickname: "buyer"}, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	o, err := seed.EnsureOrder(ctx, c, "S-"+freshPhone(), buyer, mine, status, f.env.Clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

// pngImage is a tiny image with a marker no table may ever hold.
var pngImage = append([]byte("\x89PNG\r\n\x1a\n"), []byte("VEIL-FACE-IMAGE-MARKER-0123456789")...)

// example is a valid call of one mutation for a fresh fixture, and bad
// variants of its variables with the field each must be reported on.
type example struct {
	// unverified: the caller has no real name yet.
	unverified bool
	call       func(f *fixture) veiltest.Request
	bad        []badInput
}

type badInput struct {
	name  string
	vars  map[string]any
	field string
}

func repeat(n int, item map[string]any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = item
	}
	return out
}

var (
	device   = map[string]any{"model": "Mate 60", "os": "HarmonyOS", "osVersion": "4.0", "clientVersion": "5.2.0", "resolution": "1260x2720", "packageName": "com.example.trade", "appList": []any{"WeChat"}, "oaid": "00000000-1111", "imsi": "460001234567890"}
	activity = map[string]any{"kind": "SEARCH", "occurredAt": "2026-06-15T11:00:00+08:00", "searchQuery": "bike", "ip": "198.51.100.7", "staySeconds": 12}
	contact  = map[string]any{"name": "王五", "phone": "13700001111"}
	startup  = map[string]any{"kind": "STARTUP", "occurredAt": "2026-06-15T11:00:00+08:00", "appVersion": "5.2.0", "osVersion": "Android 14", "deviceModel": "Mi 13", "startupMs": 900}
	crash    = map[string]any{"kind": "CRASH", "occurredAt": "2026-06-15T11:01:00+08:00", "appVersion": "5.2.0", "osVersion": "Android 14", "deviceModel": "Mi 13", "crashType": "java.lang.NullPointerException", "stack": "at ListingView.render"}
	callLog  = map[string]any{"phone": "13700001111", "direction": "INCOMING", "startedAt": "2026-06-15T10:00:00+08:00", "durationSeconds": 30}
)

// examples has one entry per mutation of the schema; a test fails for a
// mutation without one, so every new mutation is covered.
var examples = map[string]example{
	"requestLoginCode": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Query: `mutation($phone: String!) { requestLoginCode(phone: $phone) { expiresInSeconds } }`, Variables: map[string]any{"phone": freshPhone()}}
		},
		bad: []badInput{{"short phone", map[string]any{"phone": "1380000"}, "phone"}, {"empty phone", map[string]any{"phone": ""}, "phone"}},
	},
	"login": {
		call: func(f *fixture) veiltest.Request {
			phone := freshPhone()
			if _, err := f.env.Accounts.RequestCode(context.Background(), phone); err != nil {
				f.t.Fatal(err)
			}
			return veiltest.Request{Query: `mutation($phone: String!, $code: String!) { login(phone: $phone, code: $code) { token } }`,
				Variables: map[string]any{"phone": phone, "code": f.env.LastCode(phone)}}
		},
		bad: []badInput{{"letters in the code", map[string]any{"code": "12a456"}, "code"}, {"empty code", map[string]any{"code": ""}, "code"}},
	},
	"logout": {call: func(f *fixture) veiltest.Request {
		return veiltest.Request{Token: f.token, Query: `mutation { logout }`}
	}},
	"grantConsent": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($p: ConsentPurpose!) { grantConsent(purpose: $p) { id purpose } }`, Variables: map[string]any{"p": "MARKETING"}}
		},
		bad: []badInput{{"unknown purpose", map[string]any{"p": "EVERYTHING"}, "p"}},
	},
	"withdrawConsent": {call: func(f *fixture) veiltest.Request {
		return veiltest.Request{Token: f.token, Query: `mutation($p: ConsentPurpose!) { withdrawConsent(purpose: $p) { withdrawn } }`, Variables: map[string]any{"p": "MARKETING"}}
	}},
	"acceptPolicy": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($v: String!) { acceptPolicy(version: $v) { id } }`, Variables: map[string]any{"v": seed.PolicyVersion}}
		},
		bad: []badInput{{"unknown version", map[string]any{"v": "1999-01-01"}, "version"}},
	},
	"publishPolicyVersion": {
		call: func(f *fixture) veiltest.Request {
			admin, err := seed.EnsureUser(context.Background(), f.env.Store.Client, seed.Person{Phone: "13900000003", Role: classification.RoleAdmin}, f.env.Clock)
			if err != nil {
				f.t.Fatal(err)
			}
			return veiltest.Request{Token: f.env.Token(admin.ID), Query: `mutation($in: PublishPolicyVersionInput!) { publishPolicyVersion(input: $in) { version } }`,
				Variables: map[string]any{"in": map[string]any{"version": "v-" + freshPhone(), "major": false, "summary": "typo fixes", "text": "full text"}}}
		},
		bad: []badInput{{"empty version", map[string]any{"in": map[string]any{"version": "", "major": false, "summary": "s", "text": "t"}}, "input.version"}},
	},
	"discloseOnLegalDemand": {
		call: func(f *fixture) veiltest.Request {
			auditor, err := seed.EnsureUser(context.Background(), f.env.Store.Client, seed.Person{Phone: "13900000004", Nickname: "审计", Role: classification.RoleAuditor}, f.env.Clock)
			if err != nil {
				f.t.Fatal(err)
			}
			return veiltest.Request{Token: f.env.Token(auditor.ID), Purpose: "legal_hold",
				Query:     `mutation($in: LegalDemandInput!) { discloseOnLegalDemand(input: $in) { subjectNotified } }`,
				Variables: map[string]any{"in": legalDemand(f.user.ID, "court")}}
		},
		bad: []badInput{
			{"empty authority", map[string]any{"in": legalDemand(1, "")}, "input.authority"},
			{"a key that is not 32 bytes", map[string]any{"in": merge(legalDemand(1, "court"), map[string]any{"recipientKey": "AAAA"})}, "input.recipientKey"},
		},
	},
	"createStaffAccount": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: adminToken(f), Query: `mutation($p: String!, $n: String!, $r: StaffRole!) { createStaffAccount(phone: $p, nickname: $n, role: $r) { id role } }`,
				Variables: map[string]any{"p": freshPhone(), "n": "客服小王", "r": "SUPPORT"}}
		},
		bad: []badInput{
			{"a number with an account", map[string]any{"p": "13900000003", "n": "客服小王", "r": "SUPPORT"}, "phone"},
			{"an invisible nickname", map[string]any{"p": "13511112222", "n": "\u200b", "r": "SUPPORT"}, "nickname"},
		},
	},
	"changeStaffRole": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: adminToken(f), Query: `mutation($id: ID!, $r: StaffRole!) { changeStaffRole(id: $id, role: $r) { role } }`,
				Variables: map[string]any{"id": veiltest.ID(newStaff(f)), "r": "RISK"}}
		},
		bad: []badInput{{"not staff", map[string]any{"id": "", "r": "RISK"}, "id"}},
	},
	"suspendStaffAccount": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: adminToken(f), Query: `mutation($id: ID!) { suspendStaffAccount(id: $id) { suspended } }`,
				Variables: map[string]any{"id": veiltest.ID(newStaff(f))}}
		},
		bad: []badInput{{"not staff", map[string]any{"id": ""}, "id"}},
	},
	"reinstateStaffAccount": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: adminToken(f), Query: `mutation($id: ID!) { reinstateStaffAccount(id: $id) { suspended } }`,
				Variables: map[string]any{"id": veiltest.ID(newStaff(f))}}
		},
		bad: []badInput{{"not staff", map[string]any{"id": ""}, "id"}},
	},
	"removeStaffAccount": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: adminToken(f), Query: `mutation($id: ID!) { removeStaffAccount(id: $id) { open } }`,
				Variables: map[string]any{"id": veiltest.ID(newStaff(f))}}
		},
		bad: []badInput{{"not staff", map[string]any{"id": ""}, "id"}},
	},
	"submitRealName": {
		unverified: true,
		call: func(f *fixture) veiltest.Request {
			id := idcard.Make("310104", time.Date(1990, 3, 1, 0, 0, 0, 0, time.UTC), int(phoneSeq.Add(1)%900))
			return veiltest.Request{Token: f.token, Query: `mutation($in: RealNameInput!) { submitRealName(input: $in) { ageGroup } }`,
				Variables: map[string]any{"in": map[string]any{"realName": "赵六", "idNumber": id}}}
		},
		bad: []badInput{
			{"wrong check digit", map[string]any{"in": map[string]any{"realName": "赵六", "idNumber": "110105194912310021"}}, "input.idNumber"},
			{"empty name", map[string]any{"in": map[string]any{"realName": "", "idNumber": "11010519491231002X"}}, "input.realName"},
			{"15-digit number", map[string]any{"in": map[string]any{"realName": "赵六", "idNumber": "110105491231002"}}, "input.idNumber"},
		},
	},
	"linkChild": {
		call: func(f *fixture) veiltest.Request {
			child := newUser(f.t, f.env, false, 0)
			return veiltest.Request{Token: f.token, Query: `mutation($in: LinkChildInput!) { linkChild(input: $in) { requested } }`,
				Variables: map[string]any{"in": map[string]any{"childPhone": child.Phone}}}
		},
		bad: []badInput{{"invalid phone", map[string]any{"in": map[string]any{"childPhone": "abc"}}, "input.childPhone"}},
	},
	"answerGuardianRequest": {
		call: func(f *fixture) veiltest.Request {
			link := f.guardianLink(newUser(f.t, f.env, true, 40), f.user, false)
			return veiltest.Request{Token: f.token, Query: `mutation($id: ID!, $code: String) { answerGuardianRequest(requestId: $id, accept: true, code: $code) { status guardian { nickname } } }`,
				Variables: map[string]any{"id": veiltest.ID(link.ID), "code": exampleCode}}
		},
		unverified: true,
		bad:        []badInput{{"malformed request ID", map[string]any{"id": "12"}, "requestId"}, {"no pairing code", map[string]any{"code": nil}, "code"}},
	},
	"endGuardianship": {
		call: func(f *fixture) veiltest.Request {
			link := f.guardianLink(f.user, newUser(f.t, f.env, false, 0), true)
			return veiltest.Request{Token: f.token, Query: `mutation($id: ID!) { endGuardianship(linkId: $id) { status endReason } }`,
				Variables: map[string]any{"id": veiltest.ID(link.ID)}}
		},
		bad: []badInput{{"malformed link ID", map[string]any{"id": "12"}, "linkId"}},
	},
	"verifyFace": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: VerifyFaceInput!) { verifyFace(input: $in) { result } }`,
				Variables: map[string]any{"in": map[string]any{"image": base64.StdEncoding.EncodeToString(pngImage)}}}
		},
		bad: []badInput{
			{"not base64", map[string]any{"in": map[string]any{"image": "!!!"}}, "input.image"},
			{"not an image", map[string]any{"in": map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("hello"))}}, "input.image"},
		},
	},
	"registerDevice": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: DeviceInput!) { registerDevice(input: $in) { id } }`, Variables: map[string]any{"in": device}}
		},
		bad: []badInput{
			{"empty model", map[string]any{"in": merge(device, map[string]any{"model": ""})}, "input.model"},
			{"an IMSI that is not digits", map[string]any{"in": merge(device, map[string]any{"imsi": "46000123456789X"})}, "input.imsi"},
			{"a short IMSI", map[string]any{"in": merge(device, map[string]any{"imsi": "4600012345"})}, "input.imsi"},
		},
	},
	"recordActivity": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: [ActivityInput!]!) { recordActivity(input: $in) }`, Variables: map[string]any{"in": repeat(2, activity)}}
		},
		bad: []badInput{
			{"oversized batch", map[string]any{"in": repeat(101, activity)}, "input"},
			{"empty batch", map[string]any{"in": []any{}}, "input"},
			{"negative stay in the second item", map[string]any{"in": []any{activity, merge(activity, map[string]any{"staySeconds": -1})}}, "input[1].staySeconds"},
			{"unknown kind", map[string]any{"in": []any{merge(activity, map[string]any{"kind": "TELEPATHY"})}}, "in[0].kind"},
		},
	},
	// Over a bearer token there is no analytics cookie: nothing is counted
	// (the cookie's rules are tested in httpapi).
	"recordPageView": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation { recordPageView(page: "/search") }`}
		},
	},
	"reportAppLogs": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: [AppLogInput!]!) { reportAppLogs(input: $in) }`, Variables: map[string]any{"in": []any{startup, crash}}}
		},
		bad: []badInput{
			{"oversized batch", map[string]any{"in": repeat(51, startup)}, "input"},
			{"empty batch", map[string]any{"in": []any{}}, "input"},
			{"a crash without its type", map[string]any{"in": []any{startup, merge(crash, map[string]any{"crashType": nil})}}, "input[1].crashType"},
			{"a start-up with a stack", map[string]any{"in": []any{merge(startup, map[string]any{"stack": "frames"})}}, "input[0].kind"},
			{"a log from last year", map[string]any{"in": []any{merge(startup, map[string]any{"occurredAt": "2025-06-15T11:00:00+08:00"})}}, "input[0].occurredAt"},
			{"an empty app version", map[string]any{"in": []any{merge(startup, map[string]any{"appVersion": ""})}}, "input[0].appVersion"},
		},
	},
	"uploadContacts": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: [ContactInput!]!) { uploadContacts(input: $in) { id } }`, Variables: map[string]any{"in": repeat(3, contact)}}
		},
		bad: []badInput{
			{"oversized batch", map[string]any{"in": repeat(501, contact)}, "input"},
			{"empty name in the third item", map[string]any{"in": []any{contact, contact, merge(contact, map[string]any{"name": ""})}}, "input[2].name"},
			{"letters in a phone", map[string]any{"in": []any{merge(contact, map[string]any{"phone": "call me"})}}, "input[0].phone"},
		},
	},
	"uploadCallLog": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: [CallLogInput!]!) { uploadCallLog(input: $in) }`, Variables: map[string]any{"in": repeat(2, callLog)}}
		},
		bad: []badInput{{"negative duration", map[string]any{"in": []any{callLog, merge(callLog, map[string]any{"durationSeconds": -5})}}, "input[1].durationSeconds"}},
	},
	"recordLocation": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: LocationInput!) { recordLocation(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"latitude": 31.2304, "longitude": 121.4737, "address": "上海市黄浦区人民大道200号"}}}
		},
		bad: []badInput{{"latitude out of range", map[string]any{"in": map[string]any{"latitude": 91.0, "longitude": 121.0}}, "input.latitude"}},
	},
	"bindThirdPartyAccount": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: ThirdPartyAccountInput!) { bindThirdPartyAccount(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"provider": "QQ", "openId": "qq-" + freshPhone(), "nickname": "qq user"}}}
		},
		bad: []badInput{{"empty open id", map[string]any{"in": map[string]any{"provider": "QQ", "openId": ""}}, "input.openId"}},
	},
	"openSupportTicket": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: SupportTicketInput!) { openSupportTicket(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"contact": "13800138000", "content": "where is my parcel?"}}}
		},
		bad: []badInput{{"empty content", map[string]any{"in": map[string]any{"contact": "13800138000", "content": ""}}, "input.content"}},
	},
	"createOrder": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: CreateOrderInput!) { createOrder(input: $in) { orderNo } }`,
				Variables: map[string]any{"in": map[string]any{"listingId": veiltest.ID(f.listing.ID), "recipientPhone": "13600136000"}}}
		},
		bad: []badInput{
			{"invalid recipient phone", map[string]any{"in": map[string]any{"listingId": veiltest.ID(1), "recipientPhone": "123"}}, "input.recipientPhone"},
			{"unknown listing", map[string]any{"in": map[string]any{"listingId": veiltest.ID(999), "recipientPhone": "13600136000"}}, "input.listingId"},
			{"malformed listing ID", map[string]any{"in": map[string]any{"listingId": "999", "recipientPhone": "13600136000"}}, "input.listingId"},
		},
	},
	"payOrder": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($id: ID!) { payOrder(orderId: $id) { status } }`,
				Variables: map[string]any{"id": veiltest.ID(f.order(order.StatusCREATED).ID)}}
		},
		bad: []badInput{{"unknown order", map[string]any{"id": veiltest.ID(999)}, "orderId"}, {"malformed order ID", map[string]any{"id": "999"}, "orderId"}},
	},
	"shipOrder": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($id: ID!, $carrier: String!) { shipOrder(orderId: $id, carrier: $carrier) { status carrier } }`,
				Variables: map[string]any{"id": veiltest.ID(f.sold(order.StatusPAID).ID), "carrier": "SF Express"}}
		},
		bad: []badInput{
			{"unknown order", map[string]any{"id": veiltest.ID(999)}, "orderId"},
			{"undeclared carrier", map[string]any{"carrier": "a courier nobody declared"}, "carrier"},
			{"empty carrier", map[string]any{"carrier": ""}, "carrier"},
		},
	},
	"completeOrder": {
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($id: ID!) { completeOrder(orderId: $id) { status } }`,
				Variables: map[string]any{"id": veiltest.ID(f.order(order.StatusPAID).ID)}}
		},
		bad: []badInput{{"unknown order", map[string]any{"id": veiltest.ID(999)}, "orderId"}, {"malformed order ID", map[string]any{"id": "999"}, "orderId"}},
	},
}

func init() {
	// Rights (POLICY.md P5, P10); added here to keep the table above by topic.
	examples["exportMyData"] = example{call: func(f *fixture) veiltest.Request {
		return veiltest.Request{Token: f.token, Query: `mutation { exportMyData }`}
	}}
	examples["correctMyData"] = example{
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($in: CorrectionInput!) { correctMyData(input: $in) { nickname } }`,
				Variables: map[string]any{"in": map[string]any{"nickname": "new name"}}}
		},
		bad: []badInput{
			{"empty nickname", map[string]any{"in": map[string]any{"nickname": ""}}, "input.nickname"},
			{"nothing to correct", map[string]any{"in": map[string]any{}}, "input"},
			{"avatar not https", map[string]any{"in": map[string]any{"avatarUrl": "javascript:alert(1)"}}, "input.avatarUrl"},
		},
	}
	examples["deleteMyData"] = example{
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($c: DataCategory!) { deleteMyData(category: $c) { deleted } }`, Variables: map[string]any{"c": "ADDRESS_BOOK"}}
		},
		bad: []badInput{{"unknown category", map[string]any{"c": "EVERYTHING"}, "c"}},
	}
	examples["cancelAccount"] = example{
		call: func(f *fixture) veiltest.Request {
			return veiltest.Request{Token: f.token, Query: `mutation($ok: Boolean!) { cancelAccount(confirm: $ok) { cancelled } }`, Variables: map[string]any{"ok": true}}
		},
		bad: []badInput{{"without confirmation", map[string]any{"ok": false}, "confirm"}},
	}
}

func merge(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// declaredPurposes returns the purposes a mutation's @collects names.
func declaredPurposes(f *ast.FieldDefinition) []classification.ConsentPurpose {
	d := f.Directives.ForName("collects")
	if d == nil {
		return nil
	}
	var out []classification.ConsentPurpose
	for _, c := range d.Arguments.ForName("purposes").Value.Children {
		out = append(out, classification.ConsentPurpose(c.Value.Raw))
	}
	return out
}

// rowCounts counts the rows of every table but the rate limits' buckets,
// which every request updates, whatever it does.
func rowCounts(t *testing.T, env *veiltest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range ent.Tables {
		if table == ratebucket.Table {
			continue
		}
		var n int
		if err := env.Store.DB.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestEveryMutationHasAnExample(t *testing.T) {
	for _, f := range gqlSchema.Mutation.Fields {
		if _, ok := examples[f.Name]; !ok {
			t.Errorf("mutation %s has no entry in examples: add a valid call and its bad inputs", f.Name)
		}
	}
}

// TestConsentGatedMutations calls every mutation with exactly the consents
// its @collects declares (it must succeed: nothing undeclared is needed),
// then once without each declared consent (it must fail with
// CONSENT_REQUIRED for that purpose and write nothing).
func TestConsentGatedMutations(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		for _, mf := range gqlSchema.Mutation.Fields {
			ex, ok := examples[mf.Name]
			if !ok {
				continue
			}
			declared := declaredPurposes(mf)
			t.Run(mf.Name+" with its declared consents", func(t *testing.T) {
				f := newFixture(t, env, !ex.unverified)
				f.grant(declared...)
				if r := env.Do(ex.call(f)); len(r.Errors) > 0 {
					t.Fatalf("failed with the consents %v it declares: %s", declared, r.Raw)
				}
			})
			for _, missing := range declared {
				t.Run(fmt.Sprintf("%s without %s", mf.Name, missing), func(t *testing.T) {
					f := newFixture(t, env, !ex.unverified)
					for _, p := range declared {
						if p != missing {
							f.grant(p)
						}
					}
					req := ex.call(f)
					before := rowCounts(t, env)
					r := env.Do(req)
					if r.Code() != "CONSENT_REQUIRED" || r.Errors[0].Extensions["purpose"] != string(missing) {
						t.Fatalf("want CONSENT_REQUIRED for %s, got %s", missing, r.Raw)
					}
					if after := rowCounts(t, env); !maps.Equal(before, after) {
						t.Errorf("rows written without consent: %v -> %v", before, after)
					}
				})
			}
		}
	})
}

// TestBadInputOnEveryMutation sends each example's bad variants: each gets
// VALIDATION_FAILED naming the field, and nothing is written.
func TestBadInputOnEveryMutation(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		for _, mf := range gqlSchema.Mutation.Fields {
			ex := examples[mf.Name]
			for _, bad := range ex.bad {
				t.Run(mf.Name+": "+bad.name, func(t *testing.T) {
					f := newFixture(t, env, !ex.unverified)
					f.grant(classification.ConsentPurposes...)
					req := ex.call(f)
					req.Variables = merge(req.Variables, bad.vars)
					before := rowCounts(t, env)
					r := env.Do(req)
					if r.Code() != "VALIDATION_FAILED" {
						t.Fatalf("want VALIDATION_FAILED, got %s", r.Raw)
					}
					if got := r.Errors[0].Extensions["field"]; got != bad.field {
						t.Errorf("field = %v, want %s (%s)", got, bad.field, r.Raw)
					}
					if after := rowCounts(t, env); !maps.Equal(before, after) {
						t.Errorf("rows written: %v -> %v", before, after)
					}
				})
			}
		}
	})
}

// TestFaceImageIsNeverStored verifies a face and then reads every column
// of every table, looking for the image or its base64 form.
func TestFaceImageIsNeverStored(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		f.grant(classification.ConsentFace)
		r := env.MustDo(examples["verifyFace"].call(f))
		if veiltest.Dig(r.Data, "verifyFace.result") != "PASSED" {
			t.Fatalf("verification did not pass: %s", r.Raw)
		}
		needles := []string{"VEIL-FACE-IMAGE-MARKER", base64.StdEncoding.EncodeToString(pngImage)[:24]}
		for _, leak := range scanTables(t, env, needles) {
			t.Errorf("face image data in the database: %s", leak)
		}
	})
}
