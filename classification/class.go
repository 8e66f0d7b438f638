package classification

import "fmt"

// Class is a sensitivity class with its whole policy. Every field Veil
// stores or serves carries exactly one. Classes are declared once, below,
// and compared by pointer.
type Class struct {
	// Name identifies the class in schemas, the GraphQL @classified
	// directive, response extensions and the generated inventories.
	Name string
	// Description says, for the inventories, what the class holds.
	Description string
	// Scenario says, for the inventories, when the class is collected.
	Scenario string
	// Level is the class's protection level.
	Level Level
	// Mask is how a viewer without raw access sees a string value. A nil
	// Mask shows nothing (null); non-string values are never masked, only
	// shown raw or withheld.
	Mask Masker
	// Consent is the consent purpose that must be active to collect the
	// class; empty when Basis is not BasisConsent.
	Consent ConsentPurpose
	// Basis is the lawful basis for collecting the class.
	Basis LawfulBasis
	// StaffPurposes are the declared purposes that let staff read the class
	// raw; every such read is audited.
	StaffPurposes []Purpose
	// SubjectSeesMasked makes the subject see their own value masked in
	// ordinary reads (it is raw in their export).
	SubjectSeesMasked bool
	// SharedWithCounterparty makes the class raw to the other party of an
	// order that carries it (POLICY.md P1.5).
	SharedWithCounterparty bool
	// OnlyWhileOpen limits that sharing to while the order is being
	// fulfilled: after completion the counterparty sees it masked.
	OnlyWhileOpen bool
	// ShownToGuardians makes the class raw to the guardian of a minor of 14
	// to 17, who otherwise sees what a stranger would: the consent state
	// the guardian manages (see GuardianPowers).
	ShownToGuardians bool
	// HandlingRecord marks bookkeeping of how an account was handled
	// (consents, rights requests): after the subject cancels, staff with
	// an allowed purpose may still read it, where everything else retained
	// is for a legal hold only.
	HandlingRecord bool
	// Retention says how long the class is kept, and from what event.
	Retention Retention
	// EncryptedAtRest marks classes stored encrypted.
	EncryptedAtRest bool
	// NeverStored marks classes whose raw value must never be persisted.
	NeverStored bool
	// Exported marks classes included in the data-subject export.
	Exported bool
	// Policy cites the clauses of POLICY.md the class implements.
	Policy []string
}

// Retention is how long values of a class are kept.
type Retention struct {
	// Months after From; zero means as long as From has not happened.
	Months int
	// From is the event the period runs from.
	From string
}

// String renders the retention for the inventories.
func (r Retention) String() string {
	if r.Months == 0 {
		return "until " + r.From
	}
	return fmt.Sprintf("%d months after %s", r.Months, r.From)
}

// AllowsPurpose reports whether staff declaring p may read the class raw.
func (c *Class) AllowsPurpose(p Purpose) bool {
	if p == NoPurpose {
		return false
	}
	for _, q := range c.StaffPurposes {
		if q == p {
			return true
		}
	}
	return false
}

// The retention events.
const (
	untilCancellation = "account cancellation"
	untilCompletion   = "transaction completion"
	untilRecorded     = "recording"
)

var (
	forAccountLife = Retention{From: untilCancellation}
	anyStaff       = []Purpose{AfterSales, Dispute, FraudInvestigation, MinorProtection, Audit, LegalHold}
)

// The classes. Names are stable identifiers: renaming one is a schema change.
var (
	PublicData = &Class{
		Name: "public", Description: "identifiers and listing data anyone may see",
		Scenario: "browsing listings and public profiles",
		Level:    Public, Basis: BasisPublic, Retention: forAccountLife, Exported: true,
		Policy: []string{"P1.1"},
	}
	PublicProfile = &Class{
		Name: "public_profile", Description: "nickname and avatar",
		Scenario: "setting up a profile",
		Level:    Public, Basis: BasisContract, Retention: forAccountLife, Exported: true,
		Policy: []string{"P1.1", "P1.2"},
	}
	Contact = &Class{
		Name: "contact", Description: "mobile phone number and other contact details",
		Scenario: "registering and signing in with a mobile number; contacting customer service",
		Level:    Personal, Mask: MaskPhone, Basis: BasisContract,
		StaffPurposes: anyStaff, Retention: forAccountLife, Exported: true,
		Policy: []string{"P1.2", "P1.6"},
	}
	RealName = &Class{
		Name: "real_name", Description: "legal name from real-name verification",
		Scenario: "real-name verification before trading",
		Level:    Personal, Mask: MaskName, Consent: ConsentRealName, Basis: BasisConsent,
		StaffPurposes: []Purpose{Dispute, FraudInvestigation, MinorProtection, LegalHold},
		Retention:     forAccountLife, EncryptedAtRest: true, Exported: true,
		Policy: []string{"P1.3"},
	}
	GovernmentID = &Class{
		Name: "government_id", Description: "ID-card number and ID photo",
		Scenario: "real-name verification before trading",
		Level:    Sensitive, Mask: MaskIDNumber, Consent: ConsentRealName, Basis: BasisConsent,
		StaffPurposes:     []Purpose{FraudInvestigation, MinorProtection, LegalHold},
		SubjectSeesMasked: true, Retention: forAccountLife, EncryptedAtRest: true, Exported: true,
		Policy: []string{"P1.3"},
	}
	BirthDate = &Class{
		Name: "birth_date", Description: "date of birth and the age group derived from it",
		Scenario: "real-name verification (read from the ID number)",
		Level:    Personal, Mask: MaskBirthDate, Consent: ConsentRealName, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, MinorProtection, LegalHold},
		Retention:     forAccountLife, Exported: true,
		Policy: []string{"P1.3", "P6"},
	}
	Face = &Class{
		Name: "face", Description: "face images and biometric templates",
		Scenario: "live face verification when anti-addiction rules require it",
		Level:    Sensitive, Consent: ConsentFace, Basis: BasisConsent,
		Retention: Retention{From: "the verification call returns"}, NeverStored: true,
		Policy: []string{"P1.3a"},
	}
	AddressBook = &Class{
		Name: "address_book", Description: "address-book contacts",
		Scenario: "uploading the address book, with permission, to confirm identity and protect minors",
		Level:    Sensitive, Consent: ConsentContacts, Basis: BasisConsent,
		StaffPurposes: []Purpose{MinorProtection, LegalHold},
		Retention:     forAccountLife, EncryptedAtRest: true, Exported: true,
		Policy: []string{"P1.4", "P1.11"},
	}
	CallLog = &Class{
		Name: "call_log", Description: "call-log entries",
		Scenario: "uploading the call log, with permission, to confirm identity and protect minors",
		Level:    Sensitive, Consent: ConsentCallLog, Basis: BasisConsent,
		StaffPurposes: []Purpose{MinorProtection, LegalHold},
		Retention:     forAccountLife, EncryptedAtRest: true, Exported: true,
		Policy: []string{"P1.4"},
	}
	IPAddress = &Class{
		Name: "ip_address", Description: "IP addresses recorded in activity logs",
		Scenario: "every request to the service",
		Level:    Personal, Mask: MaskIP, Consent: ConsentActivity, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     Retention{Months: 6, From: untilRecorded}, Exported: true,
		Policy: []string{"P1.4", "P1.9"},
	}
	FaceResult = &Class{
		Name: "face_result", Description: "outcome, provider and time of a face verification (never the image)",
		Scenario: "live face verification when anti-addiction rules require it",
		Level:    Sensitive, Consent: ConsentFace, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, MinorProtection, LegalHold},
		Retention:     forAccountLife, Exported: true,
		Policy: []string{"P1.3a"},
	}
	Location = &Class{
		Name: "location", Description: "precise location and whereabouts",
		Scenario: "location-based features, with permission",
		Level:    Sensitive, Mask: MaskAddress, Consent: ConsentLocation, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     Retention{Months: 6, From: untilRecorded}, EncryptedAtRest: true, Exported: true,
		Policy: []string{"P1.4"},
	}
	DeviceID = &Class{
		Name: "device_id", Description: "device identifiers (IMEI, IMSI, IDFA, OAID, MAC)",
		Scenario: "registering the device at first start",
		Level:    Personal, Mask: MaskDeviceID, Consent: ConsentDevice, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     forAccountLife, Exported: true,
		Policy: []string{"P1.4", "P8"},
	}
	DeviceInfo = &Class{
		Name: "device_info", Description: "device model, OS, resolution, app list",
		Scenario: "registering the device at first start",
		Level:    Personal, Consent: ConsentDevice, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     forAccountLife, Exported: true,
		Policy: []string{"P1.4"},
	}
	Behaviour = &Class{
		Name: "behaviour", Description: "activity logs: searches, IP, pages, push opens, stay time, posts, favourites, shares",
		Scenario: "using the app: searching, browsing, posting, favouriting, sharing",
		Level:    Personal, Consent: ConsentActivity, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     Retention{Months: 6, From: untilRecorded}, Exported: true,
		Policy: []string{"P1.4", "P1.9"},
	}
	NoticeText = &Class{
		Name: "notice", Description: "messages to the user in the app: a disclosure on a legal demand",
		Scenario: "when Veil must tell the user of something done with their data",
		Level:    Personal, Basis: BasisLegalObligation, HandlingRecord: true,
		StaffPurposes: []Purpose{Audit, LegalHold}, Retention: forAccountLife, Exported: true,
		Policy: []string{"P3.3"},
	}
	WebVisit = &Class{
		Name: "web_visit", Description: "pages of the web app viewed under an analytics cookie, by day, keyed to the cookie's hash only",
		Scenario: "browsing the web app signed in, after accepting analytics cookies",
		Level:    Personal, Consent: ConsentAnalyticsCookies, Basis: BasisConsent,
		Retention: Retention{Months: 6, From: untilRecorded},
		Policy:    []string{"P2", "P1.10"},
	}
	AppLog = &Class{
		Name: "app_log", Description: "app start-up and crash logs: app and OS version, device model, start-up time, crash type and stack",
		Scenario: "when the app starts, and when it crashes",
		Level:    Personal, Basis: BasisSecurity,
		StaffPurposes: []Purpose{AfterSales, FraudInvestigation, LegalHold},
		Retention:     Retention{Months: 6, From: untilRecorded}, Exported: true,
		Policy: []string{"P8", "P1.12"},
	}
	Transaction = &Class{
		Name: "transaction", Description: "orders and payments: order number, amount, status, times",
		Scenario: "placing and paying orders",
		Level:    Sensitive, Basis: BasisLegalObligation,
		StaffPurposes:          []Purpose{AfterSales, Dispute, FraudInvestigation, Audit, LegalHold},
		SharedWithCounterparty: true,
		Retention:              Retention{Months: 36, From: untilCompletion}, Exported: true,
		Policy: []string{"P1.5", "P4.1"},
	}
	OrderContact = &Class{
		Name: "order_contact", Description: "recipient phone of an order, shared for delivery with the seller and the courier",
		Scenario: "placing an order (the number the courier calls)",
		Level:    Personal, Mask: MaskPhone, Basis: BasisContract,
		StaffPurposes:          []Purpose{AfterSales, Dispute, LegalHold},
		SharedWithCounterparty: true, OnlyWhileOpen: true,
		Retention: Retention{Months: 36, From: untilCompletion}, Exported: true,
		Policy: []string{"P1.5", "P3.1"},
	}
	ThirdPartyAccount = &Class{
		Name: "third_party_account", Description: "bound WeChat, QQ or Alipay account: open id, username, avatar",
		Scenario: "signing in with, or binding, WeChat, QQ or Alipay",
		Level:    Personal, Mask: MaskDeviceID, Consent: ConsentThirdPartyAccount, Basis: BasisConsent,
		StaffPurposes: []Purpose{FraudInvestigation, LegalHold},
		Retention:     forAccountLife, Exported: true,
		Policy: []string{"P1.7"},
	}
	Support = &Class{
		Name: "support", Description: "customer-service conversations and handling records",
		Scenario: "contacting customer service",
		Level:    Personal, Basis: BasisContract,
		StaffPurposes: []Purpose{AfterSales, Dispute, Audit, LegalHold},
		Retention:     Retention{Months: 36, From: "ticket closure"}, Exported: true,
		Policy: []string{"P1.6", "P9"},
	}
	Internal = &Class{
		Name: "internal", Description: "account state kept to run the service: status, role, rights requests, timestamps",
		Scenario: "running the account: rights requests, status",
		Level:    Personal, Basis: BasisContract, HandlingRecord: true,
		StaffPurposes: anyStaff, Retention: forAccountLife, Exported: true,
		Policy: []string{"P1.9", "P1.12"},
	}
	ConsentRecord = &Class{
		Name: "consent_record", Description: "consents given by the user or their guardian, per purpose and policy version, with their withdrawals",
		Scenario: "granting and withdrawing consents, accepting the policy",
		Level:    Personal, Basis: BasisLegalObligation, HandlingRecord: true, ShownToGuardians: true,
		StaffPurposes: anyStaff, Retention: forAccountLife, Exported: true,
		Policy: []string{"P5.2", "P6.1", "P6.2", "P7"},
	}
	Guardianship = &Class{
		Name: "guardianship", Description: "who is whose guardian: requests, answers and ends of a guardianship",
		Scenario: "a guardian asking to link a minor's account, and the minor answering",
		Level:    Personal, Basis: BasisLegalObligation, HandlingRecord: true,
		SharedWithCounterparty: true,
		StaffPurposes:          []Purpose{MinorProtection, Audit, LegalHold}, Retention: forAccountLife, Exported: true,
		Policy: []string{"P6.1", "P6.4"},
	}
	AuditTrail = &Class{
		Name: "audit_trail", Description: "the audit log: who read or changed whose data, when and why",
		Scenario: "every access to or change of personal data",
		Level:    Personal, Basis: BasisLegalObligation, HandlingRecord: true,
		StaffPurposes: []Purpose{Audit, LegalHold},
		Retention:     Retention{Months: 36, From: untilRecorded},
		Policy:        []string{"P4.3"},
	}
	SecretData = &Class{
		Name: "secret", Description: "password, login-code and token hashes, keys",
		Scenario: "signing in (only hashes are kept)",
		Level:    Secret, Basis: BasisSecurity, Retention: Retention{From: "expiry"},
		Policy: []string{"P4.3"},
	}
)

// All lists every class, in the order of the declarations above.
var All = []*Class{
	PublicData, PublicProfile, Contact, RealName, GovernmentID, BirthDate,
	Face, FaceResult, AddressBook, CallLog, Location, DeviceID, DeviceInfo,
	Behaviour, IPAddress, WebVisit, AppLog, NoticeText, Transaction, OrderContact, ThirdPartyAccount, Support, Internal, ConsentRecord, Guardianship, AuditTrail, SecretData,
}

var byName = map[string]*Class{}

func init() {
	for _, c := range All {
		if _, dup := byName[c.Name]; dup {
			panic("classification: class declared twice: " + c.Name)
		}
		byName[c.Name] = c
	}
}

// Lookup returns the class named name.
func Lookup(name string) (*Class, bool) {
	c, ok := byName[name]
	return c, ok
}
