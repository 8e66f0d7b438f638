package classification

// Power is one thing a guardian may do for their ward.
type Power uint8

// The guardian powers.
const (
	// ManageConsents: grant and withdraw the ward's consents, accept the
	// privacy policy for them, and see their consent state.
	ManageConsents Power = 1 << iota
	// ReadRaw: read the ward's data raw.
	ReadRaw
	// Correct the ward's data.
	Correct
	// Export the ward's data.
	Export
	// Delete the ward's data.
	Delete
	// Cancel the ward's account.
	Cancel
)

// guardianPowers are a guardian's powers by the ward's age group on the
// day of the request (DESIGN.md rule 3, POLICY.md P6): under 14 the
// guardian consents, reads, corrects, exports, deletes and cancels for the
// child (P6.4); from 14 to 17 the guardian's consent is what lets the
// minor use the service and be asked for optional data (P6.1, P6.2), and
// the guardian manages those consents but otherwise sees what a stranger
// would; at 18, and before the ward's age is known, there is none.
var guardianPowers = map[AgeGroup]Power{
	AgeChild: ManageConsents | ReadRaw | Correct | Export | Delete | Cancel,
	AgeMinor: ManageConsents,
}

// wardAges are the ages under which each power is held: what the row
// rule's SQL compares birth dates with. It is derived from guardianPowers.
var wardAges = func() map[Power]int {
	under := map[AgeGroup]int{AgeChild: 14, AgeMinor: 18}
	out := map[Power]int{}
	for group, powers := range guardianPowers {
		for p := ManageConsents; p <= Cancel; p <<= 1 {
			if powers&p != 0 && under[group] > out[p] {
				out[p] = under[group]
			}
		}
	}
	return out
}()

// GuardianPowers returns what viewer v may do for subject s as their
// guardian: nothing unless v is the guardian linked to s, and s is under
// 18 today and has not cancelled. It is the one place that decides them:
// the decision table, the row rule, forUser, the export and the
// cancellation all ask it.
func GuardianPowers(v Viewer, s Subject) Power {
	if !v.SignedIn() || s.UserID == 0 || s.GuardianID == 0 || v.UserID != s.GuardianID || s.Restricted {
		return 0
	}
	return guardianPowers[s.AgeGroup]
}

// Has reports whether every power in q is among p.
func (p Power) Has(q Power) bool { return q != 0 && p&q == q }

// WardAge returns the age under which a guardian holds power p (0: never).
func WardAge(p Power) int { return wardAges[p] }
