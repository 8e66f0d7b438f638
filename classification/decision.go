package classification

// Subject is the person a value is about, as far as a decision needs to
// know them. The zero Subject is nobody (public objects).
type Subject struct {
	// UserID is the subject's account; zero when the value is about no one.
	UserID int
	// AgeGroup is the subject's age group at request time.
	AgeGroup AgeGroup
	// GuardianID is the subject's verified guardian, if any.
	GuardianID int
	// CounterpartyID is the other party of the order the value belongs to.
	CounterpartyID int
	// OrderOpen is true while that order is being fulfilled.
	OrderOpen bool
	// Restricted is true once the subject cancelled their account: what
	// the law makes Veil keep is then for a legal hold only.
	Restricted bool
}

// Action is what a viewer gets of a value.
type Action int

// The actions, from most to least revealing.
const (
	// Withhold: the viewer gets null.
	Withhold Action = iota
	// Mask: the viewer gets the class's masked form (null if it has none).
	Mask
	// Raw: the viewer gets the value itself.
	Raw
)

var actionNames = [...]string{"WITHHELD", "MASKED", "RAW"}

// String returns the action's name as reported in response extensions.
func (a Action) String() string { return actionNames[a] }

// Decision is the outcome for one (viewer, subject, class).
type Decision struct {
	Action Action
	// Audited is true when the access must be written to the audit log.
	Audited bool
}

// Decide returns what viewer v may see of a value of class c about subject
// s. It is pure: every input it reads is in its arguments. The rules, in
// order, follow the decision table of DESIGN.md.
func Decide(v Viewer, s Subject, c *Class) Decision {
	switch {
	case c == nil, c.Level == Secret, c.NeverStored:
		// DenySecret: secrets and never-stored classes are never served.
		return Decision{Action: Withhold}
	case c.Level == Public:
		// AllowPublic: public data is raw to everyone.
		return Decision{Action: Raw}
	}
	if s.Restricted {
		// RestrictCancelled: a cancelled account's retained records are
		// raw only to staff under a legal hold (handling records: to staff
		// with an allowed purpose), audited; to no one else.
		if c.AllowsPurpose(v.Purpose) && v.HasPurpose(v.Purpose) && (v.Purpose == LegalHold || c.HandlingRecord) {
			return Decision{Action: Raw, Audited: true}
		}
		return Decision{Action: Withhold}
	}
	level := c.Level
	if s.AgeGroup == AgeChild {
		// A child's personal information is all sensitive (PIPL Art. 28).
		level = Sensitive
	}
	self := v.SignedIn() && s.UserID != 0 && v.UserID == s.UserID
	switch {
	case self && c.SubjectSeesMasked:
		// MaskOwnGovernmentID: the subject sees it masked outside the export.
		return Decision{Action: Mask}
	case self:
		// AllowSubject: the subject sees their own data raw.
		return Decision{Action: Raw}
	case GuardianPowers(v, s).Has(ReadRaw):
		// AllowGuardian: a child's guardian sees the child's data raw.
		return Decision{Action: Raw}
	case GuardianPowers(v, s).Has(ManageConsents) && c.ShownToGuardians:
		// AllowGuardianConsents: the guardian of a minor sees the minor's
		// consent state, which they manage.
		return Decision{Action: Raw}
	case c.AllowsPurpose(v.Purpose) && v.HasPurpose(v.Purpose):
		// AllowStaffPurpose: staff with an allowed purpose read raw, audited.
		return Decision{Action: Raw, Audited: true}
	}
	counterparty := v.SignedIn() && s.CounterpartyID != 0 && v.UserID == s.CounterpartyID
	switch {
	case counterparty && c.SharedWithCounterparty && (s.OrderOpen || !c.OnlyWhileOpen):
		// AllowCounterparty: what an order shares is raw to its other party
		// (some of it only while the order is being fulfilled).
		return Decision{Action: Raw}
	case (counterparty || v.IsStaff()) && level == Personal:
		// MaskForParties: the other party of an order, and staff without
		// an allowed purpose, see the rest of its personal data masked.
		return Decision{Action: Mask}
	default:
		// DenyStrangers: everyone else gets public classes only, whatever
		// the subject's age or state, so that neither a value nor the
		// reported decision tells anything about them. Sensitive data is
		// null to parties and staff without a purpose too.
		return Decision{Action: Withhold}
	}
}
