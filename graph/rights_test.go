package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"veil/classification"
	"veil/ent"
	entcontact "veil/ent/contact"
	"veil/rights"
	"veil/seed"
	"veil/veiltest"
)

// exportDoc fetches a user's export over GET /export and decodes it.
func exportDoc(t *testing.T, env *veiltest.Env, token string, forUser int) map[string]any {
	t.Helper()
	url := env.Server.URL + "/export"
	if forUser != 0 {
		url += "?forUser=" + veiltest.ID(forUser)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /export: %d %s", resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the export is not one JSON document: %v", err)
	}
	return doc
}

// TestExportDownloadTakesOpaqueIDs checks GET /export?forUser= with the
// ID a guardian sees, and that a row ID or a garbled ID is refused.
func TestExportDownloadTakesOpaqueIDs(t *testing.T) {
	env := veiltest.New(t, "sqlite:"+t.TempDir()+"/veil.db")
	w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
	if err != nil {
		t.Fatal(err)
	}
	child := w.Users["child"].ID
	if doc := exportDoc(t, env, w.Tokens["guardian"], child); doc["subjectId"] != float64(child) {
		t.Errorf("the guardian's download is about %v, want the child", doc["subjectId"])
	}
	for _, bad := range []string{fmt.Sprint(child), "garbled", veiltest.ID(child) + "x"} {
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/export?forUser="+bad, nil)
		req.Header.Set("Authorization", "Bearer "+w.Tokens["guardian"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"VALIDATION_FAILED"`) {
			t.Errorf("forUser=%s: %d %s, want 400 VALIDATION_FAILED", bad, resp.StatusCode, body)
		}
	}
}

// normal renders a database or JSON value as comparable text.
func normal(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return normal(string(x))
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		if x == math.Trunc(x) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%g", x)
	case int64:
		return fmt.Sprintf("%d", x)
	case bool:
		return fmt.Sprint(x)
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC().Format(time.RFC3339)
			}
		}
		var j any
		if json.Unmarshal([]byte(x), &j) == nil {
			if _, ok := j.([]any); ok {
				b, _ := json.Marshal(j)
				return string(b)
			}
		}
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// exported indexes an export document: type, id, field -> normal value,
// and the class each field was listed under.
func exported(doc map[string]any) (values map[string]string, classOf map[string]string) {
	values, classOf = map[string]string{}, map[string]string{}
	for class, recs := range doc["classes"].(map[string]any) {
		for _, r := range recs.([]any) {
			rec := r.(map[string]any)
			for f, v := range rec["fields"].(map[string]any) {
				key := fmt.Sprintf("%s/%s/%s", rec["type"], normal(rec["id"]), f)
				values[key] = normal(v)
				classOf[key] = class
			}
		}
	}
	return values, classOf
}

// TestExportHoldsEveryExportableField reads, straight from the tables,
// every exportable column of every row about the adult and the child, and
// finds each value in their export under its class. Every exportable
// column must hold a seeded value somewhere, so a new field is covered as
// soon as it exists. No secret class or column appears.
func TestExportHoldsEveryExportableField(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		covered := map[string]bool{}
		for _, who := range []struct {
			token   string
			forUser int
			user    *ent.User
		}{
			{w.Tokens["adult"], 0, w.Users["adult"]},
			{w.Tokens["guardian"], w.Users["child"].ID, w.Users["child"]},
		} {
			// What the tables hold now, before the export records itself.
			want := map[string]string{}
			wantClass := map[string]string{}
			for _, cl := range classification.All {
				if !cl.Exported || cl.Level == classification.Secret {
					continue
				}
				for typ, fields := range ent.Fields {
					owner := ent.Records[typ].SubjectColumn()
					for _, f := range fields {
						if owner == "" || f == "id" || ent.Classes[typ][f] != cl.Name {
							continue
						}
						rows, err := env.Store.DB.Query(fmt.Sprintf("SELECT id, %s FROM %s WHERE %s = %d", f, ent.Tables[typ], owner, who.user.ID))
						if err != nil {
							t.Fatal(err)
						}
						for rows.Next() {
							var id int64
							var v any
							if err := rows.Scan(&id, &v); err != nil {
								t.Fatal(err)
							}
							key := fmt.Sprintf("%s/%d/%s", typ, id, f)
							if v == nil {
								continue
							}
							covered[typ+"."+f] = true
							want[key], wantClass[key] = normal(plain(t, ent.Tables[typ], f, id, v)), cl.Name
						}
						rows.Close()
					}
				}
			}
			doc := exportDoc(t, env, who.token, who.forUser)
			values, classOf := exported(doc)
			for key, v := range want {
				if got, ok := values[key]; !ok || got != v {
					t.Errorf("%s: export has %q, the table %q", key, got, v)
				} else if classOf[key] != wantClass[key] {
					t.Errorf("%s listed under %s, its class is %s", key, classOf[key], wantClass[key])
				}
			}
			for _, cl := range classification.All {
				if _, ok := doc["classes"].(map[string]any)[cl.Name]; ok && (!cl.Exported || cl.Level == classification.Secret) {
					t.Errorf("class %s is in the export", cl.Name)
				}
			}
			raw, _ := json.Marshal(doc)
			for _, secret := range []string{`"token_hash"`, `"code_hash"`, `"secret"`} {
				if strings.Contains(string(raw), secret) {
					t.Errorf("the export holds %s", secret)
				}
			}
			if sdks, _ := doc["sdks"].([]any); len(sdks) != len(seed.SDKs) {
				t.Errorf("the export lists %d SDKs, want %d", len(sdks), len(seed.SDKs))
			}
		}
		// Fields that cannot hold a value for a living app user's account
		// (suspension is of staff accounts), and the ID, which the export
		// gives every record rather than a class.
		notApplicable := map[string]bool{"User.cancelled_at": true, "User.suspended_at": true}
		for typ := range ent.Fields {
			notApplicable[typ+".id"] = true
		}
		for typ, fields := range ent.Fields {
			if ent.Records[typ].SubjectColumn() == "" {
				continue
			}
			for _, f := range fields {
				c, _ := classification.Lookup(ent.Classes[typ][f])
				if c.Exported && c.Level != classification.Secret && !covered[typ+"."+f] && !notApplicable[typ+"."+f] {
					t.Errorf("%s.%s holds no seeded value: seed one so the export of it is checked", typ, f)
				}
			}
		}
		t.Run("the GraphQL export is the same document", func(t *testing.T) {
			r := env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `mutation { exportMyData }`})
			doc, _ := r.Data["exportMyData"].(map[string]any)
			if doc["format"] != rights.ExportFormat {
				t.Fatalf("exportMyData: %.300s", r.Raw)
			}
			gql, _ := exported(doc)
			http, _ := exported(exportDoc(t, env, w.Tokens["adult"], 0))
			// GET /export also lists the request exportMyData recorded.
			for k, v := range gql {
				if http[k] != v {
					t.Errorf("%s: exportMyData has %q, GET /export %q", k, v, http[k])
				}
			}
			if len(gql) == 0 || len(http) <= len(gql) {
				t.Errorf("exportMyData has %d values, GET /export %d", len(gql), len(http))
			}
			if id := w.Users["adult"].IDNumber; gql[fmt.Sprintf("User/%d/id_number", w.Users["adult"].ID)] != id {
				t.Error("the export does not hold the ID number raw")
			}
		})
	})
}

// plain opens a value read straight from an encrypted column.
func plain(t *testing.T, table, column string, id int64, v any) any {
	t.Helper()
	kind := ent.EncryptedColumns[table][column]
	if kind == "" {
		return v
	}
	s := normal(v)
	opened, err := veiltest.Keyring.Open(table+"."+column, id, s)
	if err != nil {
		t.Fatalf("%s.%s: %v", table, column, err)
	}
	if kind == "float64" {
		f, _ := strconv.ParseFloat(opened, 64)
		return f
	}
	return opened
}

// TestCancellationTakesEffectEverywhereAtOnce cancels the adult's account
// through one server and checks, through a second server process on the
// same database, that the old token is dead; then scans every table for
// the adult's personal values, which only the retained orders may hold;
// then registers the same phone again as a new, unrelated account.
func TestCancellationTakesEffectEverywhereAtOnce(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		// The second process runs on the real clock: so must the tokens.
		env.Clock = time.Now()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		adult := w.Users["adult"]
		personal := personalValues(t, env, adult.ID)
		other := veiltest.StartServerProcess(t, env.DatabaseURL)
		me := veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { id } }`}
		if r := env.PostRaw(other, me.Token, "", "application/json", []byte(`{"query":"{ me { id } }"}`)); len(r.Errors) > 0 {
			t.Fatalf("the second process does not know the token before cancellation: %s", r.Raw)
		}

		env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `mutation { cancelAccount(confirm: true) { cancelled } }`})
		for name, base := range map[string]string{"this process": env.Server.URL, "another process": other} {
			r := env.PostRaw(base, me.Token, "", "application/json", []byte(`{"query":"{ me { id } }"}`))
			if c := r.Code(); c != "ACCOUNT_CANCELLED" && c != "UNAUTHENTICATED" {
				t.Errorf("%s still accepts the cancelled account's token: %s", name, r.Raw)
			}
		}

		for _, leak := range scanTables(t, env, personal) {
			table := leak[:strings.IndexByte(leak, '.')]
			// Retained orders may hold them; public catalogue text (an SDK
			// provider named like a carrier) is not about the user.
			if table != "orders" && table != ent.Tables["ThirdPartySDK"] && table != ent.Tables["Listing"] && table != ent.Tables["PolicyVersion"] {
				t.Errorf("after cancellation %s", leak)
			}
		}

		t.Run("retained orders are for a legal hold only", func(t *testing.T) {
			q := veiltest.Request{Query: `query($id: ID!) { node(id: $id) { ... on Order { orderNo recipientPhone } } }`,
				Variables: map[string]any{"id": veiltest.ID(w.Orders[0].ID)}}
			for _, who := range []struct {
				token, purpose string
				raw            bool
			}{
				{w.Tokens["guardian"], "", false},
				{w.Tokens["support"], "after_sales", false},
				{w.Tokens["auditor"], "audit", false},
				{w.Tokens["auditor"], "legal_hold", true},
			} {
				q.Token, q.Purpose = who.token, who.purpose
				r := env.MustDo(q)
				got := veiltest.Dig(r.Data, "node.recipientPhone")
				if who.raw != (got == adult.Phone) || !who.raw && got != nil {
					t.Errorf("purpose %q sees recipientPhone %v", who.purpose, got)
				}
			}
		})

		t.Run("the phone opens a new, unrelated account", func(t *testing.T) {
			if _, err := env.Accounts.RequestCode(ctx, adult.Phone); err != nil {
				t.Fatal(err)
			}
			r := env.MustDo(veiltest.Request{Query: `mutation($p: String!, $c: String!) { login(phone: $p, code: $c) { token user { id } } }`,
				Variables: map[string]any{"p": adult.Phone, "c": env.LastCode(adult.Phone)}})
			if veiltest.Dig(r.Data, "login.user.id") == veiltest.ID(adult.ID) {
				t.Fatal("the cancelled account signed in again")
			}
			token := veiltest.Dig(r.Data, "login.token").(string)
			me := env.MustDo(veiltest.Request{Token: token, Query: `{ me { realName orders { totalCount } devices { id } consents { purpose } } }`})
			if veiltest.Dig(me.Data, "me.realName") != nil || veiltest.Dig(me.Data, "me.orders.totalCount") != float64(0) ||
				len(veiltest.Dig(me.Data, "me.devices").([]any)) != 0 {
				t.Errorf("the new account sees old data: %s", me.Raw)
			}
		})
	})
}

// personalValues collects the distinct values of personal or sensitive
// columns in rows about userID that could identify or describe them: not
// IDs, enum values or times, and not the transaction data the law keeps.
func personalValues(t *testing.T, env *veiltest.Env, userID int) []string {
	t.Helper()
	seen := map[string]bool{}
	for typ, fields := range ent.Fields {
		owner := ent.Records[typ].SubjectColumn()
		if owner == "" {
			continue
		}
		for _, f := range fields {
			c, _ := classification.Lookup(ent.Classes[typ][f])
			if c.Level < classification.Personal || c.HandlingRecord || c == classification.SecretData ||
				c == classification.Transaction || c == classification.OrderContact || f == "id" || strings.HasSuffix(f, "_id") {
				continue
			}
			rows, err := env.Store.DB.Query(fmt.Sprintf("SELECT %s FROM %s WHERE %s = %d", f, ent.Tables[typ], owner, userID))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v any
				rows.Scan(&v)
				if s := normal(v); len(s) >= 4 && !slices.Contains([]string{"true", "false"}, s) && !enumValue.MatchString(s) {
					if _, err := time.Parse(time.RFC3339, s); err != nil {
						seen[s] = true
					}
				}
			}
			rows.Close()
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d personal values seeded", len(seen))
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
}

var enumValue = regexp.MustCompile(`^[A-Z_]+$`)

// scanTables reads every column of every table and reports
// "table.column holds <value>" for each needle found.
func scanTables(t *testing.T, env *veiltest.Env, needles []string) []string {
	t.Helper()
	var found []string
	for _, table := range ent.Tables {
		rows, err := env.Store.DB.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			for i, v := range vals {
				s := normal(v)
				for _, n := range needles {
					if strings.Contains(s, n) {
						found = append(found, fmt.Sprintf("%s.%s holds %q", table, cols[i], n))
					}
				}
			}
		}
		rows.Close()
	}
	return found
}

// TestCancellationIsAtomic makes the last write of a cancellation fail
// (a trigger refuses the rights-request row): the account is left exactly
// as it was, sessions and data included.
func TestCancellationIsAtomic(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		env.RefuseInserts("rights_requests")
		before := rowCounts(t, env)
		r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: `mutation { cancelAccount(confirm: true) { cancelled } }`})
		if r.Code() != "INTERNAL" {
			t.Fatalf("cancellation with a failing last step: %s", r.Raw)
		}
		if after := rowCounts(t, env); fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("rows changed: %v -> %v", before, after)
		}
		me := env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { phone realName status devices { id } } }`})
		if veiltest.Dig(me.Data, "me.phone") != w.Users["adult"].Phone || veiltest.Dig(me.Data, "me.status") != "ACTIVE" {
			t.Errorf("the account changed: %s", me.Raw)
		}
	})
}

// TestGuardianExercisesRightsForTheChild: a guardian exports, deletes and
// cancels for their child; nobody else may, and every request is tracked.
func TestGuardianExercisesRightsForTheChild(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		child := veiltest.ID(w.Users["child"].ID)
		forChild := map[string]any{"c": child}
		for _, token := range []string{w.Tokens["adult"], w.Tokens["support"]} {
			r := env.Do(veiltest.Request{Token: token, Query: `mutation($c: ID!) { deleteMyData(category: DEVICES, forUser: $c) { deleted } }`, Variables: forChild})
			if r.Code() != "FORBIDDEN" {
				t.Errorf("someone else deleting for the child: %s", r.Raw)
			}
		}
		guardian := w.Tokens["guardian"]
		doc := exportDoc(t, env, guardian, w.Users["child"].ID)
		if doc["subjectId"] != float64(w.Users["child"].ID) {
			t.Errorf("the guardian's export is about %v", doc["subjectId"])
		}
		r := env.MustDo(veiltest.Request{Token: guardian, Query: `mutation($c: ID!) { correctMyData(input: {nickname: "明明"}, forUser: $c) { nickname } }`, Variables: forChild})
		if veiltest.Dig(r.Data, "correctMyData.nickname") != "明明" {
			t.Errorf("correction: %s", r.Raw)
		}
		r = env.MustDo(veiltest.Request{Token: guardian, Query: `mutation($c: ID!) { deleteMyData(category: ORDERS, forUser: $c) { deleted kept { count reason } } }`, Variables: forChild})
		if veiltest.Dig(r.Data, "deleteMyData.deleted") != float64(0) || len(veiltest.Dig(r.Data, "deleteMyData.kept").([]any)) != 1 {
			t.Errorf("orders are kept by law and the answer says so: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: guardian, Query: `mutation($c: ID!) { cancelAccount(confirm: true, forUser: $c) { cancelled } }`, Variables: forChild})
		if r := env.Do(veiltest.Request{Token: w.Tokens["child"], Query: `{ me { id } }`}); r.Code() != "ACCOUNT_CANCELLED" {
			t.Errorf("the child's token after the guardian cancelled: %s", r.Raw)
		}

		list := env.MustDo(veiltest.Request{Token: w.Tokens["support"], Purpose: "after_sales",
			Query: `{ rightsRequests(first: 50, orderBy: {field: CREATED_AT}) { totalCount edges { node { kind status createdAt dueAt } } } }`})
		kinds := map[string]bool{}
		for _, e := range veiltest.Dig(list.Data, "rightsRequests.edges").([]any) {
			n := e.(map[string]any)["node"].(map[string]any)
			kinds[fmt.Sprint(n["kind"])] = true
			created, _ := time.Parse(time.RFC3339, n["createdAt"].(string))
			due, _ := time.Parse(time.RFC3339, n["dueAt"].(string))
			if !due.Equal(rights.DueDate(created, rights.ResponseWorkingDays)) {
				t.Errorf("due %v for a request of %v", due, created)
			}
		}
		for _, k := range []string{"EXPORT", "CORRECTION", "DELETION", "CANCELLATION"} {
			if !kinds[k] {
				t.Errorf("no %s request in the queue: %s", k, list.Raw)
			}
		}
		if r := env.Do(veiltest.Request{Token: w.Tokens["adult"], Query: `{ rightsRequests { totalCount } }`}); r.Code() != "FORBIDDEN" {
			t.Errorf("a user listing every request: %s", r.Raw)
		}
		mine := env.MustDo(veiltest.Request{Token: w.Tokens["adult"], Query: `{ me { rightsRequests { kind dueAt } } }`})
		if len(veiltest.Dig(mine.Data, "me.rightsRequests").([]any)) == 0 {
			t.Errorf("a user does not see their own requests: %s", mine.Raw)
		}
	})
}

// TestARequestEndsWithItsAccount: once a field of a document cancels the
// account or ends the session, every later field fails and writes
// nothing.
func TestARequestEndsWithItsAccount(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		w, err := seed.Demo(context.Background(), env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			persona, first, code string
		}{
			{"adult", `cancelAccount(confirm: true) { cancelled }`, "ACCOUNT_CANCELLED"},
			{"guardian", `logout`, "UNAUTHENTICATED"},
		} {
			u := w.Users[tc.persona]
			contactsBefore := env.Store.Client.Contact.Query().Where(entcontact.UserID(u.ID)).CountX(context.Background())
			r := env.Do(veiltest.Request{Token: w.Tokens[tc.persona], Query: `mutation { first: ` + tc.first + `
				c: uploadContacts(input: [{name: "甲", phone: "13700000009"}]) { id }
				n: correctMyData(input: {nickname: "后来"}) { nickname } }`})
			codes := map[string]string{}
			for _, e := range r.Errors {
				if len(e.Path) > 0 {
					codes[fmt.Sprint(e.Path[0])], _ = e.Extensions["code"].(string)
				}
			}
			// uploadContacts is non-null: its error nulls the whole data.
			if codes["first"] != "" || codes["c"] != tc.code || codes["n"] != tc.code {
				t.Errorf("%s: later fields got %v, want %s: %s", tc.persona, codes, tc.code, r.Raw)
			}
			after, err := env.Store.Client.User.Get(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Nickname == "后来" {
				t.Errorf("%s: the nickname was corrected after the account ended", tc.persona)
			}
			if n := env.Store.Client.Contact.Query().Where(entcontact.UserID(u.ID)).CountX(context.Background()); n > contactsBefore {
				t.Errorf("%s: a contact was uploaded after the account ended", tc.persona)
			}
		}
	})
}

// TestCancelledSellersLeaveCommerce: cancelling withdraws the account's
// listings in the same transaction; nobody can order them any more, an
// order made before cannot be paid (which would share the buyer's phone
// with the cancelled account), and the listings are no longer listed.
func TestCancelledSellersLeaveCommerce(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := context.Background()
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		buyer := w.Tokens["adult"]
		create := func() veiltest.Response {
			return env.Do(veiltest.Request{Token: buyer, Query: `mutation($in: CreateOrderInput!) { createOrder(input: $in) { id } }`,
				Variables: map[string]any{"in": map[string]any{"listingId": veiltest.ID(w.Listings[0].ID), "recipientPhone": "13600136000"}}})
		}
		r := create()
		orderID, _ := veiltest.Dig(r.Data, "createOrder.id").(string)
		if orderID == "" {
			t.Fatalf("the order before cancellation: %s", r.Raw)
		}
		env.MustDo(veiltest.Request{Token: w.Tokens["guardian"], Query: `mutation { cancelAccount(confirm: true) { cancelled } }`})
		shared := env.Store.Client.SharingRecord.Query().CountX(ctx)

		if r := create(); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != "input.listingId" {
			t.Errorf("ordering a cancelled seller's listing: %s", r.Raw)
		}
		r = env.Do(veiltest.Request{Token: buyer, Query: `mutation($id: ID!) { payOrder(orderId: $id) { status } }`,
			Variables: map[string]any{"id": orderID}})
		if r.Code() != "VALIDATION_FAILED" {
			t.Errorf("paying an order on a cancelled seller's listing: %s", r.Raw)
		}
		if n := env.Store.Client.SharingRecord.Query().CountX(ctx); n != shared {
			t.Errorf("%d sharing records after the refused payment, want %d", n, shared)
		}
		r = env.MustDo(veiltest.Request{Query: `{ listings(first: 10) { totalCount } }`})
		if n := veiltest.Dig(r.Data, "listings.totalCount"); n != float64(0) {
			t.Errorf("listings still lists %v of the cancelled seller's listings", n)
		}
	})
}

// TestNamesCannotImpersonate: nicknames are stored NFC-normalised and
// refused when they hold control, zero-width or bidirectional-control
// characters, or nothing visible; avatars come only from the configured
// image hosts, so no avatar is a tracking pixel on someone else's server.
func TestNamesCannotImpersonate(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		f := newFixture(t, env, true)
		correct := func(in map[string]any) veiltest.Response {
			return env.Do(veiltest.Request{Token: f.token, Query: `mutation($in: CorrectionInput!) { correctMyData(input: $in) { nickname avatarURL } }`,
				Variables: map[string]any{"in": in}})
		}
		for name, nick := range map[string]string{
			"zero-width space":  "客服小张\u200b",
			"right-to-left":     "\u202e官方客服",
			"bidi isolate":      "客服\u2067小张",
			"zero-width joiner": "官方\u200d客服",
			"byte-order mark":   "\ufeff客服",
			"only spaces":       "   ",
			"only a mark":       "\u0301",
			"control":           "a\u0007b",
		} {
			if r := correct(map[string]any{"nickname": nick}); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != "input.nickname" {
				t.Errorf("%s: %s", name, r.Raw)
			}
		}
		r := env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($in: CorrectionInput!) { correctMyData(input: $in) { nickname } }`,
			Variables: map[string]any{"in": map[string]any{"nickname": "Cafe\u0301"}}})
		if got := veiltest.Dig(r.Data, "correctMyData.nickname"); got != "Caf\u00e9" {
			t.Errorf("nickname stored as %q, want NFC", got)
		}
		for _, url := range []string{"https://tracker.example.net/p.gif", "https://img.example.com.evil.net/a.png", "https://user@img.example.com/a.png", "http://img.example.com/a.png"} {
			if r := correct(map[string]any{"avatarUrl": url}); r.Code() != "VALIDATION_FAILED" {
				t.Errorf("avatar %s: %s", url, r.Raw)
			}
		}
		env.MustDo(veiltest.Request{Token: f.token, Query: `mutation($in: CorrectionInput!) { correctMyData(input: $in) { avatarURL } }`,
			Variables: map[string]any{"in": map[string]any{"avatarUrl": "https://img.example.com/avatar/me.png"}}})
	})
}
