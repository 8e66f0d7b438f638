package classification

import (
	"fmt"
	"strings"
)

// Purpose is an access purpose a staff member declares for a request with
// the X-Access-Purpose header. A class lists the purposes that unlock it raw.
type Purpose string

// The declared staff access purposes.
const (
	NoPurpose          Purpose = ""
	AfterSales         Purpose = "after_sales"
	Dispute            Purpose = "dispute"
	FraudInvestigation Purpose = "fraud_investigation"
	MinorProtection    Purpose = "minor_protection"
	Audit              Purpose = "audit"
	LegalHold          Purpose = "legal_hold"
)

// Purposes lists every declared purpose, in a stable order.
var Purposes = []Purpose{AfterSales, Dispute, FraudInvestigation, MinorProtection, Audit, LegalHold}

// ParsePurpose returns the purpose named by s (surrounding space ignored).
// An empty string is NoPurpose; an unknown name is an error.
func ParsePurpose(s string) (Purpose, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NoPurpose, nil
	}
	for _, p := range Purposes {
		if string(p) == s {
			return p, nil
		}
	}
	return NoPurpose, fmt.Errorf("unknown access purpose %q", s)
}

// Role is what a signed-in account is: an ordinary user or a kind of staff.
type Role string

// The roles. Staff roles may declare only the purposes RolePurposes lists.
const (
	RoleUser    Role = "user"
	RoleSupport Role = "support"
	RoleRisk    Role = "risk"
	RoleAdmin   Role = "admin"
	RoleAuditor Role = "auditor"
	// RoleSystem is the role of the System viewer only; no account has it.
	RoleSystem Role = "system"
)

// RolePurposes says which purposes each staff role may declare. The admin
// role runs the system and reads personal data only as any stranger would.
var RolePurposes = map[Role][]Purpose{
	RoleSupport: {AfterSales, Dispute},
	RoleRisk:    {FraudInvestigation, MinorProtection},
	RoleAuditor: {Audit, LegalHold},
	RoleAdmin:   nil,
}

// StaffRoles lists the staff roles, in a stable order.
var StaffRoles = []Role{RoleSupport, RoleRisk, RoleAdmin, RoleAuditor}

// ParseRole returns the role of an account named by s: "user" or a staff
// role. Every role read from outside (the store, an admin's input) goes
// through it; RoleSystem is never an account's.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r == RoleUser || r.IsStaff() {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// RoleOf is ParseRole for a role the store holds (Ent's enum): an unknown
// one is no role at all, which is neither a user's nor staff.
func RoleOf[S ~string](s S) Role {
	r, _ := ParseRole(string(s))
	return r
}

// IsStaff reports whether the role belongs to staff.
func (r Role) IsStaff() bool {
	_, ok := RolePurposes[r]
	return ok
}

// MayDeclare reports whether the role may declare purpose p.
func (r Role) MayDeclare(p Purpose) bool {
	for _, q := range RolePurposes[r] {
		if q == p {
			return true
		}
	}
	return false
}

// ConsentPurpose is a purpose of processing a user consents to. Its values
// are the GraphQL enum ConsentPurpose.
type ConsentPurpose string

// The consent purposes of DESIGN.md.
const (
	ConsentAccount           ConsentPurpose = "ACCOUNT"
	ConsentRealName          ConsentPurpose = "REAL_NAME"
	ConsentFace              ConsentPurpose = "FACE"
	ConsentDevice            ConsentPurpose = "DEVICE"
	ConsentActivity          ConsentPurpose = "ACTIVITY"
	ConsentContacts          ConsentPurpose = "CONTACTS"
	ConsentCallLog           ConsentPurpose = "CALL_LOG"
	ConsentLocation          ConsentPurpose = "LOCATION"
	ConsentThirdPartyAccount ConsentPurpose = "THIRD_PARTY_ACCOUNT"
	ConsentThirdPartySharing ConsentPurpose = "THIRD_PARTY_SHARING"
	ConsentCrossBorder       ConsentPurpose = "CROSS_BORDER"
	ConsentMarketing         ConsentPurpose = "MARKETING"
	// ConsentAnalyticsCookies lets the web app set its analytics cookie
	// and count the signed-in user's page views under it (POLICY.md P2).
	ConsentAnalyticsCookies ConsentPurpose = "ANALYTICS_COOKIES"
)

// ConsentPurposes lists every consent purpose, in the order of DESIGN.md.
var ConsentPurposes = []ConsentPurpose{
	ConsentAccount, ConsentRealName, ConsentFace, ConsentDevice, ConsentActivity,
	ConsentContacts, ConsentCallLog, ConsentLocation, ConsentThirdPartyAccount,
	ConsentThirdPartySharing, ConsentCrossBorder, ConsentMarketing, ConsentAnalyticsCookies,
}

// Optional reports whether the basic service does not need the purpose
// (PIPL Art. 16): refusing or withdrawing it never blocks the service, and
// a minor is never asked for it on their own consent, only on their
// guardian's (POLICY.md P6.2).
func (p ConsentPurpose) Optional() bool {
	switch p {
	case ConsentFace, ConsentContacts, ConsentCallLog, ConsentLocation, ConsentThirdPartyAccount, ConsentMarketing,
		ConsentThirdPartySharing, ConsentCrossBorder, ConsentAnalyticsCookies:
		return true
	}
	return false
}

// LawfulBasis is a ground for processing that needs no consent (POLICY.md P1.12).
type LawfulBasis string

// The lawful bases Veil relies on.
const (
	BasisConsent         LawfulBasis = "consent"
	BasisContract        LawfulBasis = "contract"
	BasisLegalObligation LawfulBasis = "legal_obligation"
	BasisSecurity        LawfulBasis = "security"
	BasisPublic          LawfulBasis = "made_public"
	BasisNone            LawfulBasis = "not_collected"
)
