package graph

import "veil/fault"

// maxPage is the largest page a connection serves; it bounds the work one
// request can ask for.
const maxPage = 100

func checkPage(first, last *int) error {
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n != nil && (*n < 0 || *n > maxPage) {
			return fault.Invalid(name, "must be between 0 and 100")
		}
	}
	return nil
}

// orNull serves an absent encrypted value (stored as "") as null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
