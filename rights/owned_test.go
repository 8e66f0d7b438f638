package rights

import (
	"testing"

	"veil/ent"
)

// TestEveryRecordAboutAUserIsErasedOrRetainedForAReason fails when a type
// of record about a user is neither erased by cancellation nor listed in
// Retained with the reason it is kept.
func TestEveryRecordAboutAUserIsErasedOrRetainedForAReason(t *testing.T) {
	erased := map[string]bool{"RealNameVerification": true}
	for _, typ := range categoryTypes {
		erased[typ] = true
	}
	for typ := range ent.OwnerTables {
		if !erased[typ] && Retained[typ] == "" {
			t.Errorf("%s: cancellation neither erases it nor says why it is kept (rights.Retained)", typ)
		}
	}
	if Retained["Order"] == "" {
		t.Error("orders must be listed as retained")
	}
}
