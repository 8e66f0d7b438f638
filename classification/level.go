package classification

// Level is how much harm a disclosure of a class can do.
type Level int

// The levels, from least to most protected.
const (
	// Public data may be seen by anyone, raw.
	Public Level = iota
	// Personal data identifies or relates to a person (PIPL Art. 4).
	Personal
	// Sensitive data is sensitive personal information (PIPL Art. 28).
	Sensitive
	// Secret data never leaves the server in any form.
	Secret
)

var levelNames = [...]string{"public", "personal", "sensitive", "secret"}

// String returns the level's lower-case name.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l]
}
