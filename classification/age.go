package classification

import "time"

// AgeGroup is the legal age bracket of a person on a given day.
type AgeGroup string

// The age groups; their values are the GraphQL enum AgeGroup.
const (
	// AgeUnknown: no verified birth date yet.
	AgeUnknown AgeGroup = "UNKNOWN"
	// AgeChild: under 14; all personal information is sensitive (PIPL Art. 28).
	AgeChild AgeGroup = "CHILD"
	// AgeMinor: 14 to 17; no trading (POLICY.md P1.3).
	AgeMinor AgeGroup = "MINOR"
	// AgeAdult: 18 or older.
	AgeAdult AgeGroup = "ADULT"
)

// BirthDateLayout is how birth dates are stored and served: YYYY-MM-DD.
const BirthDateLayout = "2006-01-02"

// AgeOn returns the age in whole years on day now of someone born on birth
// (both read as calendar dates; a 29 February birthday falls on 1 March in
// common years, as PRC practice counts it).
func AgeOn(birth, now time.Time) int {
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		age--
	}
	return age
}

// AgeGroupOf returns the age group on day now for a birth date in
// BirthDateLayout; an empty or unreadable date is AgeUnknown.
func AgeGroupOf(birthDate string, now time.Time) AgeGroup {
	if birthDate == "" {
		return AgeUnknown
	}
	birth, err := time.Parse(BirthDateLayout, birthDate)
	if err != nil {
		return AgeUnknown
	}
	switch age := AgeOn(birth, now.In(ChinaTime)); {
	case age < 14:
		return AgeChild
	case age < 18:
		return AgeMinor
	default:
		return AgeAdult
	}
}

// ChinaTime is the zone birthdays are counted in (UTC+8, no DST).
var ChinaTime = time.FixedZone("CST", 8*60*60)
