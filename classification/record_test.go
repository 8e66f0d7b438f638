package classification

import (
	"strings"
	"testing"
)

// TestRecordDeclarationsAreChecked lists the declarations codegen refuses
// and some it accepts.
func TestRecordDeclarationsAreChecked(t *testing.T) {
	fields := []string{"user_id", "seller_id", "occurred_at"}
	tests := []struct {
		name string
		rec  Record
		want string // "" for accepted
	}{
		{"a person", IsPerson(), ""},
		{"rows about a user", About("user_id").DeletedAs("DEVICES").ExpiresFrom("occurred_at"), ""},
		{"rows kept for a reason", About("user_id").WithCounterparty("seller_id").KeptAfterCancel("the law"), ""},
		{"public rows exposing a seller", PublicRows("seller_id"), ""},
		{"system rows", SystemRows(), ""},
		{"no declaration at all", Record{}, "unknown kind of rows"},
		{"a subject column that is not a field", About("owner_id"), "subject column"},
		{"a counterparty that is not a field", About("user_id").WithCounterparty("buyer"), "counterparty column"},
		{"kept without a reason", About("user_id").KeptAfterCancel(""), "must say why"},
		{"an unknown deletion category", About("user_id").DeletedAs("PHOTOS"), "unknown deletion category"},
		{"an expiry field that is not a field", About("user_id").ExpiresFrom("at"), "expiry field"},
		{"public rows with a subject", Record{Rows: RowsPublic, Subject: "user_id"}, "about no one"},
		{"an exposed column that is not a field", PublicRows("owner"), "exposed column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rec.Check(fields)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	if _, err := RecordOf(map[string]any{}); err == nil {
		t.Error("a type without a declaration must be refused")
	}
}
