package classification

import (
	"testing"
)

// TestDecideTable checks Decide against the decision table of DESIGN.md,
// one row per kind of viewer and one column per level.
func TestDecideTable(t *testing.T) {
	const (
		subjectID      = 10
		guardianID     = 11
		counterpartyID = 12
		strangerID     = 13
		staffID        = 14
	)
	adult := Subject{UserID: subjectID, AgeGroup: AgeAdult, CounterpartyID: counterpartyID, OrderOpen: true}
	closedOrder := Subject{UserID: subjectID, AgeGroup: AgeAdult, CounterpartyID: counterpartyID}
	child := Subject{UserID: subjectID, AgeGroup: AgeChild, GuardianID: guardianID}
	teenWithGuardian := Subject{UserID: subjectID, AgeGroup: AgeMinor, GuardianID: guardianID}

	// One class per level, none shared with counterparties, plus the
	// special cases.
	personal := &Class{Name: "t_personal", Level: Personal, Mask: MaskPhone, StaffPurposes: []Purpose{AfterSales}}
	sensitive := &Class{Name: "t_sensitive", Level: Sensitive, Mask: MaskIDNumber, StaffPurposes: []Purpose{FraudInvestigation}}
	shared := &Class{Name: "t_shared", Level: Sensitive, SharedWithCounterparty: true}
	whileOpen := &Class{Name: "t_while_open", Level: Personal, Mask: MaskPhone, SharedWithCounterparty: true, OnlyWhileOpen: true}
	ownMasked := &Class{Name: "t_own_masked", Level: Sensitive, Mask: MaskIDNumber, SubjectSeesMasked: true}

	self := Viewer{UserID: subjectID, Role: RoleUser}
	guardian := Viewer{UserID: guardianID, Role: RoleUser}
	counterparty := Viewer{UserID: counterpartyID, Role: RoleUser}
	stranger := Viewer{UserID: strangerID, Role: RoleUser}
	supportAfterSales := Viewer{UserID: staffID, Role: RoleSupport, Purpose: AfterSales}
	riskFraud := Viewer{UserID: staffID, Role: RoleRisk, Purpose: FraudInvestigation}
	supportNoPurpose := Viewer{UserID: staffID, Role: RoleSupport}
	// A purpose the role may not declare grants nothing, even if the class allows it.
	supportClaimingFraud := Viewer{UserID: staffID, Role: RoleSupport, Purpose: FraudInvestigation}
	// A user who is not staff gains nothing by declaring a purpose.
	userClaimingPurpose := Viewer{UserID: strangerID, Role: RoleUser, Purpose: AfterSales}

	cancelled := Subject{UserID: subjectID, AgeGroup: AgeAdult, CounterpartyID: counterpartyID, Restricted: true}
	auditorLegalHold := Viewer{UserID: staffID, Role: RoleAuditor, Purpose: LegalHold}
	shared.StaffPurposes = []Purpose{LegalHold}

	raw, masked, null := Decision{Action: Raw}, Decision{Action: Mask}, Decision{Action: Withhold}
	audited := Decision{Action: Raw, Audited: true}

	tests := []struct {
		name    string
		viewer  Viewer
		subject Subject
		class   *Class
		want    Decision
	}{
		{"subject sees public raw", self, adult, PublicProfile, raw},
		{"subject sees personal raw", self, adult, personal, raw},
		{"subject sees sensitive raw", self, adult, sensitive, raw},
		{"subject sees own government ID masked", self, adult, ownMasked, masked},
		{"subject never sees secrets", self, adult, SecretData, null},
		{"subject never gets face data", self, adult, Face, null},

		{"guardian of a child sees personal raw", guardian, child, personal, raw},
		{"guardian of a child sees sensitive raw", guardian, child, sensitive, raw},
		{"guardian of a child never sees secrets", guardian, child, SecretData, null},
		{"guardian of a 14-17 minor is a stranger for personal", guardian, teenWithGuardian, personal, null},
		{"guardian of a 14-17 minor is a stranger for sensitive", guardian, teenWithGuardian, sensitive, null},

		{"counterparty sees public raw", counterparty, adult, PublicProfile, raw},
		{"counterparty sees what the order shares raw", counterparty, adult, shared, raw},
		{"counterparty sees other personal data masked", counterparty, adult, personal, masked},
		{"counterparty sees delivery data raw while the order is open", counterparty, adult, whileOpen, raw},
		{"counterparty sees delivery data masked after completion", counterparty, closedOrder, whileOpen, masked},
		{"counterparty keeps the transaction after completion", counterparty, closedOrder, shared, raw},
		{"counterparty gets no other sensitive data", counterparty, adult, sensitive, null},

		{"stranger sees public raw", stranger, adult, PublicProfile, raw},
		{"stranger gets no personal data", stranger, adult, personal, null},
		{"stranger gets no sensitive data", stranger, adult, sensitive, null},
		{"stranger gets nothing shared with counterparties", stranger, adult, shared, null},
		{"stranger gets no personal data of a child", stranger, child, personal, null},

		{"anonymous sees public raw", Anonymous, adult, PublicData, raw},
		{"anonymous gets no personal data", Anonymous, adult, personal, null},
		{"anonymous gets no sensitive data", Anonymous, adult, sensitive, null},
		{"anonymous gets no personal data of a child", Anonymous, child, personal, null},

		{"staff with an allowed purpose read personal raw, audited", supportAfterSales, adult, personal, audited},
		{"staff with an allowed purpose read sensitive raw, audited", riskFraud, adult, sensitive, audited},
		{"staff with an allowed purpose read a child's data raw, audited", riskFraud, child, sensitive, audited},
		{"staff with an allowed purpose never see secrets", riskFraud, adult, SecretData, null},
		{"staff with another purpose see personal masked", riskFraud, adult, personal, masked},
		{"staff with another purpose get no sensitive data", supportAfterSales, adult, sensitive, null},
		{"staff without a purpose see public raw", supportNoPurpose, adult, PublicProfile, raw},
		{"staff without a purpose see personal masked", supportNoPurpose, adult, personal, masked},
		{"staff without a purpose get no sensitive data", supportNoPurpose, adult, sensitive, null},
		{"staff claiming a purpose of another role get nothing extra", supportClaimingFraud, adult, sensitive, null},
		{"a user declaring a purpose gets nothing extra", userClaimingPurpose, adult, personal, null},

		{"a nil class fails closed", self, adult, nil, null},

		{"a cancelled subject's records are withheld from their counterparty", counterparty, cancelled, shared, null},
		{"a cancelled subject's records are withheld from staff without a legal hold", supportAfterSales, cancelled, personal, null},
		{"a cancelled subject's records are raw to a legal hold, audited", auditorLegalHold, cancelled, shared, audited},
		{"a cancelled subject's public data is still public", Anonymous, cancelled, PublicData, raw},
		{"a cancelled subject's handling records stay readable to staff with a purpose", supportAfterSales, cancelled, Internal, audited},
		{"a cancelled subject's handling records are withheld from others", counterparty, cancelled, Internal, null},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.viewer, tt.subject, tt.class); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDeclaredClassesHaveCompletePolicies checks each declaration states
// what every class must state.
func TestDeclaredClassesHaveCompletePolicies(t *testing.T) {
	for _, c := range All {
		t.Run(c.Name, func(t *testing.T) {
			if c.Description == "" || c.Scenario == "" || c.Basis == "" || c.Retention.From == "" || len(c.Policy) == 0 {
				t.Errorf("incomplete declaration: %+v", c)
			}
			if (c.Basis == BasisConsent) != (c.Consent != "") {
				t.Errorf("consent basis %q with consent purpose %q", c.Basis, c.Consent)
			}
			if c.Level == Secret && (len(c.StaffPurposes) > 0 || c.Exported) {
				t.Error("a secret class is unlocked for staff or exported")
			}
			for _, p := range c.StaffPurposes {
				if _, err := ParsePurpose(string(p)); err != nil {
					t.Error(err)
				}
			}
			if got, ok := Lookup(c.Name); !ok || got != c {
				t.Error("Lookup does not find the class")
			}
		})
	}
}

// TestMinimumClassSet checks the classes DESIGN.md requires exist with at
// least the level it requires.
func TestMinimumClassSet(t *testing.T) {
	want := map[*Class]Level{
		PublicProfile: Public, Contact: Personal, RealName: Personal,
		GovernmentID: Sensitive, Face: Sensitive, AddressBook: Sensitive, CallLog: Sensitive,
		Location: Sensitive, DeviceID: Personal, DeviceInfo: Personal, Behaviour: Personal,
		Transaction: Sensitive, ThirdPartyAccount: Personal, Support: Personal,
		Internal: Personal, SecretData: Secret,
	}
	for c, min := range want {
		if c.Level < min {
			t.Errorf("%s: level %s, want at least %s", c.Name, c.Level, min)
		}
	}
	if !Face.NeverStored {
		t.Error("face data must be declared never stored")
	}
}

// TestStrangersSeeTheSameOfEveryone checks, for every class, that what a
// stranger or an anonymous caller gets does not depend on whom the value
// is about: their age group, guardian or state. Otherwise the decision
// itself (masked for one, null for another) would tell who is a child.
func TestStrangersSeeTheSameOfEveryone(t *testing.T) {
	subjects := []Subject{
		{UserID: 10, AgeGroup: AgeAdult},
		{UserID: 10, AgeGroup: AgeMinor, GuardianID: 11},
		{UserID: 10, AgeGroup: AgeChild, GuardianID: 11},
		{UserID: 10, AgeGroup: AgeUnknown},
		{UserID: 10, AgeGroup: AgeAdult, Restricted: true},
		{UserID: 10, AgeGroup: AgeAdult, CounterpartyID: 12, OrderOpen: true},
	}
	viewers := map[string]Viewer{
		"anonymous":                  Anonymous,
		"stranger":                   {UserID: 13, Role: RoleUser},
		"a user declaring a purpose": {UserID: 13, Role: RoleUser, Purpose: AfterSales},
	}
	for label, v := range viewers {
		for _, c := range All {
			want := Decide(v, subjects[0], c)
			if c.Level != Public && want.Action != Withhold {
				t.Errorf("%s gets %s of %s: strangers get public classes only", label, want.Action, c.Name)
			}
			for _, s := range subjects[1:] {
				if got := Decide(v, s, c); got != want {
					t.Errorf("%s: %s of a subject %+v is %v, of an adult %v", label, c.Name, s, got, want)
				}
			}
		}
	}
}
