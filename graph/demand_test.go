package graph_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/box"

	"veil/classification"
	"veil/ent/auditevent"
	"veil/ent/notice"
	"veil/ent/sharingrecord"
	"veil/seed"
	"veil/veiltest"
)

// TestLegalDemandsAreAnsweredEncryptedAndRecorded answers a public
// authority's demand (POLICY.md P3.3): only an auditor declaring
// legal_hold may; the document holds the demanded classes only and opens
// only with the authority's key; the audit log records it with its legal
// document; the subject is told, in a notice and their sharing records,
// unless the demand forbids it.
func TestLegalDemandsAreAnsweredEncryptedAndRecorded(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		pub, priv, err := box.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		adult, guardian := w.Users["adult"], w.Users["guardian"]
		demand := func(u int, notify bool) map[string]any {
			return map[string]any{"user": veiltest.ID(u), "authority": "某市公安局", "documentReference": "某公(刑)调证字[2026]0042号",
				"classes": []any{"contact", "transaction"}, "recipientKey": base64.StdEncoding.EncodeToString(pub[:]), "notifySubject": notify}
		}
		q := `mutation($in: LegalDemandInput!) { discloseOnLegalDemand(input: $in) { ciphertext classes subjectNotified } }`
		for _, who := range []struct{ token, purpose string }{
			{w.Tokens["support"], "after_sales"}, {w.Tokens["auditor"], ""}, {w.Tokens["auditor"], "audit"}, {w.Tokens["admin"], ""}, {w.Tokens["adult"], ""},
		} {
			if r := env.Do(veiltest.Request{Token: who.token, Purpose: who.purpose, Query: q, Variables: map[string]any{"in": demand(adult.ID, true)}}); r.Code() != "FORBIDDEN" {
				t.Errorf("a demand answered with purpose %q: %s", who.purpose, r.Raw)
			}
		}
		auditor := func(in map[string]any) veiltest.Response {
			return env.Do(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "legal_hold", Query: q, Variables: map[string]any{"in": in}})
		}
		for field, bad := range map[string]map[string]any{
			"input.recipientKey":      merge(demand(adult.ID, true), map[string]any{"recipientKey": "c2hvcnQ="}),
			"input.classes[1]":        merge(demand(adult.ID, true), map[string]any{"classes": []any{"contact", "secret"}}),
			"input.documentReference": merge(demand(adult.ID, true), map[string]any{"documentReference": ""}),
			"input.user":              merge(demand(adult.ID, true), map[string]any{"user": veiltest.ID(999999)}),
		} {
			if r := auditor(bad); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != strings.TrimSpace(field) {
				t.Errorf("bad %s: %s", field, r.Raw)
			}
		}
		if n := env.Store.Client.AuditEvent.Query().Where(auditevent.Action("LEGAL_DISCLOSURE")).CountX(ctx); n != 0 {
			t.Fatalf("%d disclosures recorded by refused demands", n)
		}

		r := auditor(demand(adult.ID, true))
		sealed, _ := base64.StdEncoding.DecodeString(veiltest.Dig(r.Data, "discloseOnLegalDemand.ciphertext").(string))
		if strings.Contains(string(sealed), adult.Phone) {
			t.Fatal("the document is not encrypted")
		}
		plain, ok := box.OpenAnonymous(nil, sealed, pub, priv)
		if !ok {
			t.Fatalf("the document does not open with the authority's key: %s", r.Raw)
		}
		var doc struct {
			Format            string                     `json:"format"`
			DocumentReference string                     `json:"documentReference"`
			Classes           map[string]json.RawMessage `json:"classes"`
		}
		if err := json.Unmarshal(plain, &doc); err != nil || doc.Format != "veil-disclosure/1" || doc.DocumentReference == "" {
			t.Fatalf("the document: %v %.300s", err, plain)
		}
		if len(doc.Classes) != 2 || !strings.Contains(string(doc.Classes["contact"]), adult.Phone) || doc.Classes["transaction"] == nil {
			t.Errorf("the document holds %v; want contact and transaction only", keys(doc.Classes))
		}
		other, _, _ := box.GenerateKey(rand.Reader)
		if _, ok := box.OpenAnonymous(nil, sealed, other, priv); ok {
			t.Error("the document opens with another key")
		}
		r = env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { notices { kind message } sharingRecords { recipient legalBasis } } }`})
		if !strings.Contains(r.Raw, `"kind":"LEGAL_DISCLOSURE"`) || !strings.Contains(r.Raw, "某公(刑)调证字[2026]0042号") || !strings.Contains(r.Raw, `"recipient":"authority:某市公安局"`) {
			t.Errorf("the subject is not told: %s", r.Raw)
		}

		// Forbidden to tell: nothing the subject reads shows it.
		auditor(demand(guardian.ID, false))
		if n := env.Store.Client.Notice.Query().Where(notice.UserID(guardian.ID)).CountX(ctx); n != 0 {
			t.Errorf("%d notices of a demand that forbids telling", n)
		}
		if n := env.Store.Client.SharingRecord.Query().Where(sharingrecord.UserID(guardian.ID), sharingrecord.RecipientHasPrefix("authority:")).CountX(ctx); n != 0 {
			t.Errorf("a demand that forbids telling is in the subject's sharing records")
		}
		events := env.Store.Client.AuditEvent.Query().Where(auditevent.Action("LEGAL_DISCLOSURE")).Order(auditevent.BySeq()).AllX(ctx)
		if len(events) != 2 || events[1].SubjectID == nil || *events[1].SubjectID != guardian.ID || !strings.Contains(events[1].Detail, "forbids telling") ||
			!strings.Contains(events[0].Detail, "0042号") || events[0].Purpose != "legal_hold" {
			t.Errorf("the audit log of the demands: %+v", events)
		}
		if r := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: `{ verifyAuditChain { ok } }`}); veiltest.Dig(r.Data, "verifyAuditChain.ok") != true {
			t.Errorf("the chain after the demands: %s", r.Raw)
		}
	})
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestNoticesAreForTheSubjectAndAuditors: customer service and risk
// control do not read that an authority demanded a user's data.
func TestNoticesAreForTheSubjectAndAuditors(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(classification.AsSystem(context.Background()), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		q := veiltest.Request{Query: `query($id: ID!) { node(id: $id) { ... on User { notices { message } } } }`, Variables: map[string]any{"id": veiltest.ID(w.Users["adult"].ID)}}
		for _, who := range []struct{ persona, purpose string }{{"support", "after_sales"}, {"risk", "fraud_investigation"}} {
			q.Token, q.Purpose = w.Tokens[who.persona], who.purpose
			if r := env.Do(q); strings.Contains(r.Raw, "DEMO-0001") {
				t.Errorf("%s under %s reads the notice: %s", who.persona, who.purpose, r.Raw)
			}
		}
		q.Token, q.Purpose = w.Tokens["auditor"], "legal_hold"
		if r := env.MustDo(q); !strings.Contains(r.Raw, "DEMO-0001") {
			t.Errorf("an auditor under legal_hold: %s", r.Raw)
		}
	})
}
