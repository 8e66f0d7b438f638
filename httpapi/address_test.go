package httpapi

import "testing"

// TestClientAddressesOfIPv6AreTheirNetwork: limits and address keys count
// an IPv6 client by its /64, which one subscriber holds whole, so that
// walking through its addresses does not multiply the limits.
func TestClientAddressesOfIPv6AreTheirNetwork(t *testing.T) {
	for remote, want := range map[string]string{
		"203.0.113.7:5555":                   "203.0.113.7",
		"[2001:db8:1:2::1]:443":              "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff:ffff:ffff:1]:80": "2001:db8:1:2::/64",
		"[::ffff:203.0.113.7]:80":            "203.0.113.7",
		"[::1]:80":                           "::/64",
		"[fe80::1%eth0]:80":                  "fe80::/64",
		"not an address":                     "not an address",
	} {
		if got := clientAddress(remote); got != want {
			t.Errorf("clientAddress(%q) = %q, want %q", remote, got, want)
		}
	}
}
