package classification

import "fmt"

// Region is where personal information is kept or where it goes: an ISO
// 3166-1 alpha-2 code. Mainland China is CN; Hong Kong (HK), Macao (MO)
// and Taiwan (TW) are outside it for the rules on transfers abroad
// (PIPL ch. III; POLICY.md P4.2).
type Region string

// Mainland is mainland China, where the policy keeps personal information.
const Mainland Region = "CN"

// ParseRegion returns the region named by s: two upper-case letters.
func ParseRegion(s string) (Region, error) {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", fmt.Errorf("region %q is not an ISO 3166-1 alpha-2 code such as CN", s)
	}
	return Region(s), nil
}

// InMainland reports whether r is mainland China.
func (r Region) InMainland() bool { return r == Mainland }

// ValidRegion is ParseRegion as an Ent validator.
func ValidRegion(s string) error {
	_, err := ParseRegion(s)
	return err
}
