// Package analytics writes de-identified activity data for analysis
// (POLICY.md P1.10, DESIGN.md rule 9): no direct identifier leaves, users
// become keyed pseudonyms (HMAC-SHA256 under a key the operator holds, so
// the pseudonyms cannot be recomputed from IDs without it), IP addresses
// are cut to their network, device identifiers are keyed hashes, free
// text (search queries, login accounts, targets) is dropped, and what
// clients report in other text fields leaves only as a closed vocabulary:
// pages as route templates, browsers and carriers as allow-listed
// families (see reduce.go).
package analytics

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"time"

	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/device"
)

// MinKeyBytes is the shortest pseudonymisation key accepted.
const MinKeyBytes = 32

// Row is one exported event.
type Row struct {
	Subject     string   `json:"subject"`
	Devices     []string `json:"devices,omitempty"`
	Kind        string   `json:"kind"`
	OccurredAt  string   `json:"occurredAt"`
	Network     string   `json:"ipNetwork,omitempty"`
	Browser     string   `json:"browser,omitempty"`
	Carrier     string   `json:"carrier,omitempty"`
	Connection  string   `json:"network,omitempty"`
	Language    string   `json:"language,omitempty"`
	Page        string   `json:"page,omitempty"`
	StaySeconds *int     `json:"staySeconds,omitempty"`
}

// Export writes every activity event as JSON lines to w, in pages of
// batch rows, so memory stays flat.
func Export(ctx context.Context, c *ent.Client, key []byte, w io.Writer, batch int) (int, error) {
	if len(key) < MinKeyBytes {
		return 0, errors.New("analytics: the pseudonymisation key must be at least 32 bytes")
	}
	if batch <= 0 {
		batch = 1000
	}
	p := pseudonymiser{key: key, devices: map[int][]string{}}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n, after := 0, 0
	for {
		page, err := c.ActivityLog.Query().Where(activitylog.IDGT(after)).Order(ent.Asc(activitylog.FieldID)).Limit(batch).All(ctx)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		if err := p.loadDevices(ctx, c, page); err != nil {
			return n, err
		}
		for _, a := range page {
			if err := enc.Encode(p.row(a)); err != nil {
				return n, err
			}
			n++
			after = a.ID
		}
	}
	return n, bw.Flush()
}

type pseudonymiser struct {
	key     []byte
	devices map[int][]string // user ID -> hashed device ids, per page
}

func (p *pseudonymiser) hash(kind, v string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// loadDevices hashes the device identifiers of the page's users. The IMSI
// is not one of them: it identifies the SIM's subscriber, a person, and
// stays out of the export even hashed (POLICY.md P8).
func (p *pseudonymiser) loadDevices(ctx context.Context, c *ent.Client, page []*ent.ActivityLog) error {
	clear(p.devices)
	var users []int
	for _, a := range page {
		if _, ok := p.devices[a.UserID]; !ok {
			p.devices[a.UserID] = nil
			users = append(users, a.UserID)
		}
	}
	devs, err := c.Device.Query().Where(device.UserIDIn(users...)).All(ctx)
	if err != nil {
		return err
	}
	for _, d := range devs {
		for _, id := range []*string{d.Imei, d.Idfa, d.Oaid, d.MAC} {
			if id != nil && *id != "" {
				p.devices[d.UserID] = append(p.devices[d.UserID], p.hash("device", *id))
			}
		}
	}
	return nil
}

func (p *pseudonymiser) row(a *ent.ActivityLog) Row {
	r := Row{
		Subject:     p.hash("user", strconv.Itoa(a.UserID)),
		Devices:     p.devices[a.UserID],
		Kind:        string(a.Kind),
		OccurredAt:  a.OccurredAt.UTC().Truncate(time.Hour).Format(time.RFC3339),
		StaySeconds: a.StaySeconds,
	}
	if a.IP != nil {
		r.Network = truncateIP(*a.IP)
	}
	for _, f := range []struct {
		dst    *string
		src    *string
		reduce func(string) string
	}{
		{&r.Browser, a.Browser, browserFamily}, {&r.Carrier, a.Carrier, carrierName},
		{&r.Connection, a.Network, connection}, {&r.Language, a.Language, language}, {&r.Page, a.Page, routeTemplate},
	} {
		if f.src != nil {
			*f.dst = f.reduce(*f.src)
		}
	}
	return r
}

// truncateIP keeps the /24 of an IPv4 and the /48 of an IPv6 address;
// anything unparseable is dropped.
func truncateIP(s string) string {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	bits := 24
	if addr.Is6() && !addr.Is4In6() {
		bits = 48
	}
	prefix, err := addr.Unmap().Prefix(bits)
	if err != nil {
		return ""
	}
	return prefix.String()
}
