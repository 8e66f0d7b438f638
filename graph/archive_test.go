package graph_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"veil/classification"
	"veil/seed"
	"veil/veiltest"
)

// TestPolicyVersionsAreArchivedInFull publishes new versions of the policy
// (POLICY.md P7): every version stays readable by anyone in full, with
// what changed; each signed-in user is told of a version they have not
// accepted, and must accept a major one; a version that reduces rights
// cannot be published as minor.
func TestPolicyVersionsAreArchivedInFull(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(classification.AsSystem(context.Background()), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		read := `query($v: String!) { policyVersion(version: $v) { version major text textEn changes contentHash reducesRights } }`
		r := env.MustDo(veiltest.Request{Query: read, Variables: map[string]any{"v": seed.PolicyVersion}})
		first := r.Data["policyVersion"].(map[string]any)
		sum := sha256.Sum256([]byte(seed.PolicyText))
		if first["text"] != seed.PolicyText || first["textEn"] != seed.PolicyTextEn || first["contentHash"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("the first version is not archived in full: %.200s", r.Raw)
		}
		if r := env.MustDo(veiltest.Request{Query: read, Variables: map[string]any{"v": "1999-01-01"}}); r.Data["policyVersion"] != nil {
			t.Errorf("an unknown version: %s", r.Raw)
		}
		notice := `{ policyNotice { mustAccept version { version changes } } }`
		adult := w.Tokens["adult"]
		if r := env.MustDo(veiltest.Request{Token: adult, Query: notice}); r.Data["policyNotice"] != nil {
			t.Errorf("a notice before any new version: %s", r.Raw)
		}

		publish := `mutation($in: PublishPolicyVersionInput!) { publishPolicyVersion(input: $in) { version changes } }`
		admin := w.Tokens["admin"]
		en := strings.Replace(seed.PolicyTextEn, "logistics), with affiliates", "logistics, insurers), with affiliates", 1) +
			"\n## P11 Insurance\nOrders may be insured by a partner insurer.\n"
		zh := seed.PolicyText + "\n新增:订单保险。\n"
		in := map[string]any{"version": "2027-01-01", "major": false, "reducesRights": true, "summary": "insurers", "text": zh, "textEn": en}
		if r := env.Do(veiltest.Request{Token: admin, Query: publish, Variables: map[string]any{"in": in}}); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != "input.major" {
			t.Errorf("a minor version that reduces rights: %s", r.Raw)
		}
		in["major"] = true
		env.Clock = env.Clock.Add(time.Hour)
		defer func() { env.Clock = veiltest.Now }()
		r = env.MustDo(veiltest.Request{Token: admin, Query: publish, Variables: map[string]any{"in": in}})
		changes, _ := veiltest.Dig(r.Data, "publishPolicyVersion.changes").(string)
		if !strings.Contains(changes, "changed: P3.1") || !strings.Contains(changes, "added: P11") || !strings.Contains(changes, "1 paragraphs added") {
			t.Errorf("the changes of the new version: %q", changes)
		}
		// Both versions stay readable; the old one unchanged.
		if r := env.MustDo(veiltest.Request{Query: read, Variables: map[string]any{"v": seed.PolicyVersion}}); veiltest.Dig(r.Data, "policyVersion.text") != seed.PolicyText {
			t.Error("the old version changed")
		}
		if r := env.MustDo(veiltest.Request{Query: read, Variables: map[string]any{"v": "2027-01-01"}}); veiltest.Dig(r.Data, "policyVersion.text") != zh || veiltest.Dig(r.Data, "policyVersion.reducesRights") != true {
			t.Errorf("the new version: %.300s", r.Raw)
		}

		r = env.MustDo(veiltest.Request{Token: adult, Query: notice})
		if veiltest.Dig(r.Data, "policyNotice.mustAccept") != true || veiltest.Dig(r.Data, "policyNotice.version.version") != "2027-01-01" {
			t.Errorf("the notice of a major version: %s", r.Raw)
		}
		if r := env.MustDo(veiltest.Request{Query: notice}); r.Data["policyNotice"] != nil {
			t.Errorf("an anonymous notice: %s", r.Raw)
		}
		before := env.Store.Client.Consent.Query().CountX(classification.AsSystem(context.Background()))
		for range 3 {
			env.MustDo(veiltest.Request{Token: adult, Query: `mutation { acceptPolicy(version: "2027-01-01") { policyVersion } }`})
		}
		if n := env.Store.Client.Consent.Query().CountX(classification.AsSystem(context.Background())); n != before+1 {
			t.Errorf("accepting a version three times recorded %d acceptances", n-before)
		}
		if r := env.MustDo(veiltest.Request{Token: adult, Query: notice}); r.Data["policyNotice"] != nil {
			t.Errorf("a notice after accepting: %s", r.Raw)
		}

		// Clause ids of any length, and names that could pass for another
		// version.
		in = map[string]any{"version": "2027-01-15", "major": false, "summary": "long ids", "text": zh, "textEn": "## P" + strings.Repeat("9", 5000) + "\nbody\n"}
		if r := env.Do(veiltest.Request{Token: admin, Query: publish, Variables: map[string]any{"in": in}}); len(r.Errors) > 0 || len(veiltest.Dig(r.Data, "publishPolicyVersion.changes").(string)) > 4000 {
			t.Errorf("a version with a long clause id: %.300s", r.Raw)
		}
		for _, name := range []string{seed.PolicyVersion + " ", "v\u202ex", " 2027"} {
			in := map[string]any{"version": name, "major": false, "summary": "s", "text": "t"}
			if r := env.Do(veiltest.Request{Token: admin, Query: publish, Variables: map[string]any{"in": in}}); r.Code() != "VALIDATION_FAILED" {
				t.Errorf("version %q: %s", name, r.Raw)
			}
		}
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { acceptPolicy(version: "2027-01-15") { policyVersion } }`})

		// A minor version is told, and need not be accepted.
		env.Clock = env.Clock.Add(time.Hour)
		in = map[string]any{"version": "2027-02-01", "major": false, "summary": "typo", "text": zh + "。"}
		env.MustDo(veiltest.Request{Token: admin, Query: publish, Variables: map[string]any{"in": in}})
		r = env.MustDo(veiltest.Request{Token: adult, Query: notice})
		if veiltest.Dig(r.Data, "policyNotice.mustAccept") != false || veiltest.Dig(r.Data, "policyNotice.version.version") != "2027-02-01" {
			t.Errorf("the notice of a minor version: %s", r.Raw)
		}
	})
}

// TestAChangeOfControllerIsToldAndAskedAgain follows the transfer
// procedure of README (POLICY.md P3.2): a new controller under the same
// purposes is told to every user and processing goes on; a version that
// changes the purposes too is major, and until a user accepts it nothing
// beyond the essential operations is done with their data.
func TestAChangeOfControllerIsToldAndAskedAgain(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(classification.AsSystem(context.Background()), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		publish := `mutation($in: PublishPolicyVersionInput!) { publishPolicyVersion(input: $in) { changes controller } }`
		notice := `{ policyNotice { mustAccept version { version controller } } }`
		ordinary := veiltest.Request{Token: w.Tokens["adult"], Query: `mutation($in: [AppLogInput!]!) { reportAppLogs(input: $in) }`,
			Variables: map[string]any{"in": []any{map[string]any{"kind": "STARTUP", "occurredAt": env.Clock.Format(time.RFC3339), "appVersion": "5.3.0", "osVersion": "iOS 18", "deviceModel": "iPhone 15"}}}}
		defer func() { env.Clock = veiltest.Now }()

		env.Clock = env.Clock.Add(time.Hour)
		ordinary.Variables["in"].([]any)[0].(map[string]any)["occurredAt"] = env.Clock.Format(time.RFC3339)
		r := env.MustDo(veiltest.Request{Token: w.Tokens["admin"], Query: publish, Variables: map[string]any{"in": map[string]any{
			"version": "2027-03-01", "major": false, "summary": "the business is sold to New Holder", "text": seed.PolicyText + "\n控制者变更。\n",
			"controller": "New Holder Co., Ltd."}}})
		if !strings.Contains(veiltest.Dig(r.Data, "publishPolicyVersion.changes").(string), "the controller changes") {
			t.Errorf("the changes do not tell the transfer: %s", r.Raw)
		}
		r = env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: notice})
		if veiltest.Dig(r.Data, "policyNotice.version.controller") != "New Holder Co., Ltd." || veiltest.Dig(r.Data, "policyNotice.mustAccept") != false {
			t.Errorf("the notice of the transfer: %s", r.Raw)
		}
		env.MustDo(ordinary)

		env.Clock = env.Clock.Add(time.Hour)
		ordinary.Variables["in"].([]any)[0].(map[string]any)["occurredAt"] = env.Clock.Format(time.RFC3339)
		env.MustDo(veiltest.Request{Token: w.Tokens["admin"], Query: publish, Variables: map[string]any{"in": map[string]any{
			"version": "2027-04-01", "major": true, "summary": "New Holder uses orders for credit scoring", "text": seed.PolicyText + "\n控制者变更。\n新目的。\n"}}})
		r = env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: notice})
		if veiltest.Dig(r.Data, "policyNotice.mustAccept") != true || veiltest.Dig(r.Data, "policyNotice.version.controller") != "New Holder Co., Ltd." {
			t.Errorf("the notice of the new purpose: %s", r.Raw)
		}
		// The later version does not hide the transfer: the notice lists
		// both, the first with its change of controller.
		r = env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ policyNotice { unaccepted { version changes } } }`})
		if list, _ := veiltest.Dig(r.Data, "policyNotice.unaccepted").([]any); len(list) != 2 ||
			!strings.Contains(veiltest.Dig(list[0], "changes").(string), "the controller changes") || veiltest.Dig(list[1], "version") != "2027-04-01" {
			t.Errorf("the versions not accepted: %s", r.Raw)
		}
		if r := env.Do(ordinary); r.Code() != "POLICY_RECONSENT_REQUIRED" {
			t.Errorf("processing before the user accepts the new purpose: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `mutation { exportMyData }`})
		env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `mutation { acceptPolicy(version: "2027-04-01") { policyVersion } }`})
		env.MustDo(ordinary)
	})
}
