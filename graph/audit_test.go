package graph_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"veil/audit"
	"veil/classification"
	"veil/ent"
	"veil/ent/auditevent"
	"veil/seed"
	"veil/veiltest"
)

func readRawEntries(t *testing.T, env *veiltest.Env) []string {
	t.Helper()
	evs, err := env.Store.Client.AuditEvent.Query().Where(auditevent.Action("READ_RAW")).Order(auditevent.BySeq()).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// One entry per request lists the subjects and classes read.
	var out []string
	for _, e := range evs {
		reads, err := audit.Reads(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reads {
			for _, c := range r.Classes {
				out = append(out, fmt.Sprintf("%d/%s/%s", r.SubjectID, c, e.Purpose))
			}
		}
	}
	return out
}

// TestEveryRawStaffReadIsAuditedOnce reads the adult's user record, every
// field, as each kind of staff: exactly one entry per request, subject and
// class read raw under a purpose; none for masked or withheld reads.
func TestEveryRawStaffReadIsAuditedOnce(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, _, viewers := world(t, env)
		adult := classification.Subject{UserID: w.Users["adult"].ID, AgeGroup: classification.AgeAdult}
		def := gqlSchema.Types["User"]
		// Scalar fields only: nested records have subjects of their own.
		query := "query($id: ID!) { node(id: $id) { ... on User { "
		for _, f := range def.Fields {
			if subSelection(f) == "" {
				query += f.Name + " "
			}
		}
		query += "} } }"
		for _, v := range viewers {
			if !v.viewer.IsStaff() {
				continue
			}
			t.Run(v.label, func(t *testing.T) {
				want := map[string]bool{}
				for _, f := range def.Fields {
					c, _ := classification.FieldClass(f)
					if d := classification.Decide(v.viewer, adult, c); subSelection(f) == "" && d.Audited {
						want[fmt.Sprintf("%d/%s/%s", adult.UserID, c.Name, v.viewer.Purpose)] = true
					}
				}
				for range 2 {
					before := len(readRawEntries(t, env))
					env.MustDo(veiltest.Request{Token: v.token, Purpose: string(v.viewer.Purpose), Query: query,
						Variables: map[string]any{"id": veiltest.ID(adult.UserID)}})
					got := readRawEntries(t, env)[before:]
					sort.Strings(got)
					if len(got) != len(want) {
						t.Fatalf("audit entries %v, want one each of %v", got, want)
					}
					for _, g := range got {
						if !want[g] {
							t.Errorf("unexpected audit entry %s", g)
						}
					}
				}
			})
		}
	})
}

func verify(t *testing.T, env *veiltest.Env, token string) map[string]any {
	t.Helper()
	r := env.MustDo(veiltest.Request{Token: token, Purpose: "audit", Query: `{ verifyAuditChain { ok checked firstBadSeq firstBad { seq } reason } }`})
	return r.Data["verifyAuditChain"].(map[string]any)
}

// TestTamperingBreaksTheChainAtThatRow alters, deletes and re-orders audit
// rows straight in the database and asks the server to verify the chain.
func TestTamperingBreaksTheChainAtThatRow(t *testing.T) {
	tamper := []struct {
		name    string
		sql     string
		wantSeq float64
	}{
		{"altering a row", "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 3", 3},
		{"deleting a row", "DELETE FROM audit_events WHERE seq = 4", 5},
		{"re-ordering rows", "UPDATE audit_events SET seq = 1000 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = 1000", 2},
		{"deleting the newest row", "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)", -1},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
				w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
				if err != nil {
					t.Fatal(err)
				}
				auditor := w.Tokens["auditor"]
				if v := verify(t, env, auditor); v["ok"] != true {
					t.Fatalf("the untouched chain does not verify: %v", v)
				}
				last, err := env.Store.Client.AuditEvent.Query().Count(context.Background())
				if err != nil || last < 6 {
					t.Fatalf("only %d audit entries seeded", last)
				}
				for _, stmt := range strings.Split(tt.sql, "; ") {
					if _, err := env.Store.DB.Exec(stmt); err != nil {
						t.Fatal(err)
					}
				}
				v := verify(t, env, auditor)
				want := tt.wantSeq
				if want < 0 {
					want = float64(last)
				}
				if v["ok"] != false || v["firstBadSeq"] != want || v["reason"] == nil {
					t.Errorf("after %s: %v, want the first bad entry at %v", tt.name, v, want)
				}
			})
		})
	}
}

// TestTheSubjectIndexMatchesTheChain: a read entry lists the subjects it
// read, and the index by subject that auditors search is checked against
// it: a subject removed from the index, or added to it, fails the chain
// at that entry; a read is found by each of its subjects.
func TestTheSubjectIndexMatchesTheChain(t *testing.T) {
	for name, tamper := range map[string]string{
		"a subject removed":     "DELETE FROM audit_subjects WHERE seq = %[1]d AND subject_id = %[2]d",
		"a subject added":       "INSERT INTO audit_subjects (seq, subject_id, classes) VALUES (%[1]d, %[3]d, 'contact')",
		"classes changed":       "UPDATE audit_subjects SET classes = 'public_profile' WHERE seq = %[1]d AND subject_id = %[2]d",
		"a read after the last": "INSERT INTO audit_subjects (seq, subject_id, classes) VALUES (%[1]d + 1, %[2]d, 'contact')",
		// The first damage is named, also when a later entry of the same
		// page is altered as well.
		"a subject removed, a later entry altered": "DELETE FROM audit_subjects WHERE seq = %[1]d AND subject_id = %[2]d; UPDATE audit_events SET purpose = 'x' WHERE seq = (SELECT MAX(seq) FROM audit_events)",
	} {
		t.Run(name, func(t *testing.T) {
			veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
				w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
				if err != nil {
					t.Fatal(err)
				}
				env.MustDo(veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales",
					Query: `{ users(first: 20) { edges { node { phone } } } }`})
				read, err := env.Store.Client.AuditEvent.Query().Where(auditevent.Action(audit.ReadRaw)).
					Order(ent.Desc(auditevent.FieldSeq)).First(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				reads, err := audit.Reads(read)
				if err != nil || len(reads) < 3 || read.SubjectID != nil {
					t.Fatalf("one entry for the list's %d subjects: %+v (%v)", len(reads), read, err)
				}
				adult := w.Users["adult"].ID
				listed := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit",
					Query:     `query($a: ID) { auditEvents(actorId: $a, action: "READ_RAW", last: 1) { edges { node { readSubjects } } } }`,
					Variables: map[string]any{"a": veiltest.ID(w.Users["support"].ID)}})
				var ids []any
				if edges, _ := veiltest.Dig(listed.Data, "auditEvents.edges").([]any); len(edges) == 1 {
					ids, _ = veiltest.Dig(edges[0], "node.readSubjects").([]any)
				}
				if len(ids) != len(reads) || !slices.Contains(ids, any(veiltest.ID(adult))) {
					t.Errorf("readSubjects does not list the %d subjects read (%s among them): %s", len(reads), veiltest.ID(adult), listed.Raw)
				}
				// An entry that reads several subjects is about no one of
				// them: none sees it, nor the others it lists.
				if r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Variables: map[string]any{"id": veiltest.ID(read.ID)},
					Query: `query($id: ID!) { node(id: $id) { ... on AuditEvent { detail readSubjects } } }`}); r.Raw != `{"data":{"node":null}}` {
					t.Errorf("a subject of a multi-subject read sees the entry: %s", r.Raw)
				}
				found := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit",
					Query:     `query($s: ID) { auditEvents(subjectId: $s, action: "READ_RAW", class: "contact") { totalCount } }`,
					Variables: map[string]any{"s": veiltest.ID(adult)}})
				if n, _ := veiltest.Dig(found.Data, "auditEvents.totalCount").(float64); n != 1 {
					t.Errorf("the read is not found by its subject: %s", found.Raw)
				}
				for _, stmt := range strings.Split(fmt.Sprintf(tamper, read.Seq, adult, 999999), "; ") {
					if _, err := env.Store.DB.Exec(stmt); err != nil {
						t.Fatal(err)
					}
				}
				v := verify(t, env, w.Tokens["auditor"])
				if v["ok"] != false || v["firstBadSeq"] != float64(read.Seq)+float64(strings.Count(tamper, "+ 1")) {
					t.Errorf("after %q: %v, want the entry %d refused", tamper, v, read.Seq)
				}
			})
		})
	}
}

// TestConcurrentAuditWritesNeverForkTheChain runs staff reads in parallel:
// every one is logged, and the chain still verifies.
func TestConcurrentAuditWritesNeverForkTheChain(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		before := len(readRawEntries(t, env))
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					r := env.Do(veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales",
						Query:     `query($id: ID!) { node(id: $id) { ... on User { phone } } }`,
						Variables: map[string]any{"id": veiltest.ID(w.Users["adult"].ID)}})
					if len(r.Errors) > 0 {
						t.Errorf("read failed: %s", r.Raw)
					}
				}
			}()
		}
		wg.Wait()
		if got := len(readRawEntries(t, env)) - before; got != workers*each {
			t.Errorf("%d audit entries for %d raw reads", got, workers*each)
		}
		if v := verify(t, env, w.Tokens["auditor"]); v["ok"] != true {
			t.Errorf("the chain forked: %v", v)
		}
	})
}

// TestAuditLogRecordsChangesAndIsForAuditors checks that consent changes
// and rights requests are logged, that auditors can filter the log, and
// that nobody else can read it.
func TestAuditLogRecordsChangesAndIsForAuditors(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		adult := w.Tokens["adult"]
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { grantConsent(purpose: MARKETING) { id } }`})
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { withdrawConsent(purpose: MARKETING) { withdrawn } }`})
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { deleteMyData(category: LOCATION) { deleted } }`})
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { correctMyData(input: {nickname: "伟"}) { id } }`})
		env.MustDo(veiltest.Request{Token: adult, Query: `mutation { exportMyData }`})

		q := `query($s: ID, $a: String) { auditEvents(subjectId: $s, action: $a, first: 50) { totalCount edges { node { action detail actorID } } } }`
		for _, action := range []string{"CONSENT_GRANTED", "CONSENT_WITHDRAWN", "RIGHTS_DELETION", "RIGHTS_CORRECTION", "RIGHTS_EXPORT"} {
			r := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: q,
				Variables: map[string]any{"s": veiltest.ID(w.Users["adult"].ID), "a": action}})
			if n, _ := veiltest.Dig(r.Data, "auditEvents.totalCount").(float64); n < 1 {
				t.Errorf("no %s entry: %s", action, r.Raw)
			}
		}
		// A raw read is one entry naming its classes; the class filter
		// finds it by any of them, and by nothing that only resembles one.
		env.MustDo(veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales",
			Query:     `query($id: ID!) { node(id: $id) { ... on User { phone createdAt } } }`,
			Variables: map[string]any{"id": veiltest.ID(w.Users["adult"].ID)}})
		reads := `query($s: ID, $c: String) { auditEvents(subjectId: $s, action: "READ_RAW", class: $c) { totalCount edges { node { class } } } }`
		both := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: reads,
			Variables: map[string]any{"s": veiltest.ID(w.Users["adult"].ID), "c": "contact"}})
		if !strings.Contains(both.Raw, `{"class":"contact,internal"}`) {
			t.Fatalf("want one entry naming both classes: %s", both.Raw)
		}
		for _, c := range []string{"contac", "ntact", "e", "%", "_", "CONTACT", " contact", strings.Repeat("x", 5000)} {
			r := env.Do(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: reads,
				Variables: map[string]any{"s": veiltest.ID(w.Users["adult"].ID), "c": c}})
			if r.Code() != "VALIDATION_FAILED" {
				t.Errorf("class %.20q is no class: %s", c, r.Raw)
			}
		}
		for c, want := range map[string]float64{"contact": 1, "internal": 1, "government_id": 0} {
			r := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: reads,
				Variables: map[string]any{"s": veiltest.ID(w.Users["adult"].ID), "c": c}})
			if n, _ := veiltest.Dig(r.Data, "auditEvents.totalCount").(float64); n != want {
				t.Errorf("class %q: %v entries, want %v: %s", c, n, want, r.Raw)
			}
		}
		r := env.Do(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit", Query: reads,
			Variables: map[string]any{"c": "contact,internal"}})
		if r.Code() != "VALIDATION_FAILED" {
			t.Errorf("a list of classes is not a class: %s", r.Raw)
		}
		for _, who := range []struct{ token, purpose string }{
			{adult, ""}, {w.Tokens["support"], "after_sales"}, {w.Tokens["auditor"], ""}, {w.Tokens["admin"], ""},
		} {
			r := env.Do(veiltest.Request{Token: who.token, Purpose: who.purpose, Query: `{ auditEvents { totalCount } verifyAuditChain { ok } }`})
			if r.Code() != "FORBIDDEN" {
				t.Errorf("%q reads the audit log: %s", who.purpose, r.Raw)
			}
		}
	})
}

// TestSharingLedgerIsForStaffAndOwners lists the ledger as staff, and as
// its owner through me.
func TestSharingLedgerIsForStaffAndOwners(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		// The demo's: the paid order's, and a disclosure on a legal demand.
		seeded := env.Store.Client.SharingRecord.Query().CountX(classification.AsSystem(context.Background()))
		r := env.MustDo(veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales", Query: `{ sharingRecords(first: 10) { totalCount edges { node { recipient dataCategories legalBasis } } } }`})
		if veiltest.Dig(r.Data, "sharingRecords.totalCount") != float64(seeded) || seeded < 2 || !strings.Contains(r.Raw, "order_contact") {
			t.Errorf("staff ledger: %s", r.Raw)
		}
		if r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: `{ sharingRecords { totalCount } }`}); r.Code() != "FORBIDDEN" {
			t.Errorf("a user listing the whole ledger: %s", r.Raw)
		}
		r = env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { sharingRecords { recipient purpose } } thirdPartySDKs { name } }`})
		if len(veiltest.Dig(r.Data, "me.sharingRecords").([]any)) != seeded || len(veiltest.Dig(r.Data, "thirdPartySDKs").([]any)) != len(seed.SDKs) {
			t.Errorf("own ledger and SDKs: %s", r.Raw)
		}
	})
}

// TestAuditAppendValidatesAndSpansStatements appends a batch larger than
// one INSERT holds (the chain must still verify), then an entry Ent's
// schema refuses: nothing of a refused batch is written.
func TestAuditAppendValidatesAndSpansStatements(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		count := func() int {
			n, err := env.Store.Client.AuditEvent.Query().Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		batch := make([]audit.Entry, 1203)
		for i := range batch {
			batch[i] = audit.Entry{Action: audit.ReadRaw, Class: "contact",
				Reads: []audit.Read{{SubjectID: w.Users["adult"].ID, Classes: []string{"contact"}}, {SubjectID: i + 1, Classes: []string{"contact"}}}}
		}
		if err := audit.Append(ctx, env.Store.Client, env.Clock, batch...); err != nil {
			t.Fatal(err)
		}
		if got := count() - before; got != len(batch) {
			t.Fatalf("%d entries written for %d", got, len(batch))
		}
		for _, bad := range []audit.Entry{{Action: ""}, {Action: audit.Purge, Detail: strings.Repeat("x", 1<<20+1)}} {
			if err := audit.Append(ctx, env.Store.Client, env.Clock, audit.Entry{Action: audit.Purge}, bad); err == nil {
				t.Errorf("appended %+v", bad)
			}
		}
		if got := count() - before; got != len(batch) {
			t.Errorf("a refused batch left %d entries", got-len(batch))
		}
		// A read entry of the earlier form, one per subject with no list
		// in its detail, still verifies and is found by its subject.
		legacy := audit.Entry{SubjectID: w.Users["teen"].ID, Action: audit.ReadRaw, Class: "contact", Purpose: "after_sales"}
		if err := audit.Append(ctx, env.Store.Client, env.Clock, legacy); err != nil {
			t.Fatal(err)
		}
		found := env.MustDo(veiltest.Request{Token: w.Tokens["auditor"], Purpose: "audit",
			Query:     `query($s: ID) { auditEvents(subjectId: $s, action: "READ_RAW", class: "contact") { totalCount } }`,
			Variables: map[string]any{"s": veiltest.ID(w.Users["teen"].ID)}})
		if n, _ := veiltest.Dig(found.Data, "auditEvents.totalCount").(float64); n != 1 {
			t.Errorf("an entry of the earlier form is not found by its subject: %s", found.Raw)
		}
		if v := verify(t, env, w.Tokens["auditor"]); v["ok"] != true {
			t.Errorf("the chain does not verify: %v", v)
		}
	})
}

// TestUnauditedReadsAreNotServed makes every audit append fail (a trigger
// refuses the rows) while several staff read a phone raw at once: none of
// them gets the value, each gets an error with a code, the masked read
// still works, and the chain is untouched.
func TestUnauditedReadsAreNotServed(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		env.RefuseInserts("audit_events")
		before, err := env.Store.Client.AuditEvent.Query().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		phone := w.Users["adult"].Phone
		read := veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales",
			Query:     `query($id: ID!) { node(id: $id) { ... on User { phone } } }`,
			Variables: map[string]any{"id": veiltest.ID(w.Users["adult"].ID)}}
		var wg sync.WaitGroup
		responses := make([]veiltest.Response, 6)
		for i := range responses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				responses[i] = env.Do(read)
			}()
		}
		wg.Wait()
		for _, r := range responses {
			if strings.Contains(r.Raw, phone) || r.Code() != "INTERNAL" || !strings.Contains(r.Raw, "retryAfterSeconds") {
				t.Errorf("an unaudited raw read answered: %s", r.Raw)
			}
		}
		read.Purpose = ""
		if r := env.MustDo(read); veiltest.Dig(r.Data, "node.phone") == phone || veiltest.Dig(r.Data, "node.phone") == nil {
			t.Errorf("the masked read: %s", r.Raw)
		}
		if after, _ := env.Store.Client.AuditEvent.Query().Count(ctx); after != before {
			t.Errorf("%d audit entries written by failed appends", after-before)
		}
	})
}

// TestAuditAppendsAreShared holds the chain (a transaction that locks its
// head, or on SQLite the one connection) while ten requests record raw
// reads: they wait, and once it is released their entries are written in
// far fewer appends than requests, every entry committed, the chain
// intact.
func TestAuditAppendsAreShared(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		appends := 0
		env.Store.Counter.Trace = func(q string) {
			if strings.HasPrefix(q, "UPDATE") && strings.Contains(q, "audit_heads") && strings.Contains(q, "RETURNING") {
				mu.Lock()
				appends++
				mu.Unlock()
			}
		}
		defer func() { env.Store.Counter.Trace = nil }()
		before, err := env.Store.Client.AuditEvent.Query().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hold, err := env.Store.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hold.Exec(`UPDATE audit_heads SET seq = seq`); err != nil {
			t.Fatal(err)
		}
		rec := &audit.Recorder{Client: env.Store.Client}
		support := classification.Viewer{UserID: w.Users["support"].ID, Role: classification.RoleSupport, Purpose: classification.AfterSales}
		const requests = 10
		errs := make(chan error, requests)
		for i := range requests {
			go func() {
				errs <- rec.RecordAccesses(ctx, support, []classification.Access{{SubjectID: w.Users["adult"].ID, Class: "contact"}, {SubjectID: i + 1, Class: "internal"}})
			}()
		}
		time.Sleep(300 * time.Millisecond)
		if err := hold.Rollback(); err != nil {
			t.Fatal(err)
		}
		for range requests {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		after, err := env.Store.Client.AuditEvent.Query().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := appends
		mu.Unlock()
		t.Logf("%d requests, %d appends", requests, n)
		if n > 3 {
			t.Errorf("%d appends for %d waiting requests", n, requests)
		}
		if after-before != requests {
			t.Errorf("%d entries written, want one a request, %d", after-before, requests)
		}
		if v := verify(t, env, w.Tokens["auditor"]); v["ok"] != true {
			t.Errorf("the chain does not verify: %v", v)
		}
	})
}
