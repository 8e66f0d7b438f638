// Package inventory generates the two lists Chinese apps publish (GB/T
// 35273-2020; the MIIT's app rules): the collected personal information
// list and the third-party sharing list. Nothing in them is written by
// hand: the first comes from the class registry and the fields the Ent
// schema tags with each class, the second from the SDK inventory and the
// recipients package sharing declares (and through which alone data is
// shared).
package inventory

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"veil/classification"
	"veil/ent"
	"veil/sharing"
)

// Collected is one row of the collected personal information list: a
// class of personal information and everything about its collection.
type Collected struct {
	Class       string   `json:"class"`
	Information string   `json:"information"`
	Level       string   `json:"level"`
	Purpose     string   `json:"purpose"`
	Basis       string   `json:"basis"`
	Scenario    string   `json:"scenario"`
	Retention   string   `json:"retention"`
	Stored      bool     `json:"stored"`
	Fields      []string `json:"fields"`
	Policy      []string `json:"policy"`
}

// Shared is one row of the third-party sharing list.
type Shared struct {
	Recipient string   `json:"recipient"`
	DataTypes []string `json:"dataTypes"`
	Purpose   string   `json:"purpose"`
	Scenario  string   `json:"scenario"`
	Method    string   `json:"method"`
	Basis     string   `json:"basis"`
	PolicyURL string   `json:"policyUrl,omitempty"`
	// Region is where the recipient receives the data (POLICY.md P4.2).
	Region string   `json:"region"`
	Policy []string `json:"policy"`
}

// Inventory is both lists.
type Inventory struct {
	Collected []Collected `json:"collected"`
	Shared    []Shared    `json:"shared"`
}

// Build generates the lists from the registry and the store.
func Build(ctx context.Context, c *ent.Client) (*Inventory, error) {
	inv := &Inventory{Collected: collected()}
	sdks, err := c.ThirdPartySDK.Query().Order(ent.Asc("id")).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range sdks {
		inv.Shared = append(inv.Shared, Shared{
			Recipient: s.Provider + " (" + s.Name + ")", DataTypes: s.DataTypes, Purpose: s.Purpose,
			Scenario: s.CollectionMoment, Method: "SDK embedded in the app, collecting on the device",
			Basis: "consent, asked when the feature is first used", PolicyURL: s.PolicyURL,
			Region: s.Region, Policy: []string{"P1.8"},
		})
	}
	// Every recipient Veil discloses to is declared in package sharing,
	// which refuses any other: the list is its declarations.
	for _, r := range sharing.Recipients {
		var types []string
		for _, cl := range r.Classes {
			types = append(types, cl.Description)
		}
		region := string(r.Region)
		if region == "" {
			region = "where the seller is: CN, or abroad for goods shipped from abroad (the buyer's own cross-border trade)"
		}
		inv.Shared = append(inv.Shared, Shared{
			Recipient: r.Party, DataTypes: types, Purpose: r.Purpose,
			Scenario: r.Scenario, Method: r.Method, Basis: basisOf(r), Region: region, Policy: r.Policy,
		})
	}
	sort.SliceStable(inv.Shared, func(i, j int) bool { return inv.Shared[i].Recipient < inv.Shared[j].Recipient })
	return inv, nil
}

// collected lists every class that holds personal information, with the
// fields the schema tags with it.
func collected() []Collected {
	fields := map[string][]string{}
	for typ, fs := range ent.Fields {
		for _, f := range fs {
			name := ent.Classes[typ][f]
			fields[name] = append(fields[name], typ+"."+f)
		}
	}
	var out []Collected
	for _, c := range classification.All {
		if c.Level == classification.Public || c.Level == classification.Secret {
			continue
		}
		purpose := string(c.Consent)
		if purpose == "" {
			purpose = "—"
		}
		fs := fields[c.Name]
		sort.Strings(fs)
		if fs == nil {
			fs = []string{}
		}
		out = append(out, Collected{
			Class: c.Name, Information: c.Description, Level: c.Level.String(),
			Purpose: purpose, Basis: string(c.Basis), Scenario: c.Scenario,
			Retention: c.Retention.String(), Stored: !c.NeverStored,
			Fields: fs, Policy: c.Policy,
		})
	}
	return out
}

// Markdown renders both lists as Markdown tables.
func (inv *Inventory) Markdown() string {
	var b strings.Builder
	b.WriteString("# Collected personal information list\n\n")
	b.WriteString("| information | class | level | consent | basis | when collected | kept | stored | fields | policy |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range inv.Collected {
		stored := "yes"
		if !c.Stored {
			stored = "never"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			cell(c.Information), c.Class, c.Level, c.Purpose, c.Basis, cell(c.Scenario), c.Retention, stored,
			cell(strings.Join(c.Fields, ", ")), strings.Join(c.Policy, ", "))
	}
	b.WriteString("\n# Third-party sharing list\n\n")
	b.WriteString("| recipient | data | purpose | when | how | basis | received in | policy |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, s := range inv.Shared {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			cell(s.Recipient), cell(strings.Join(s.DataTypes, ", ")), cell(s.Purpose), cell(s.Scenario), cell(s.Method), cell(s.Basis),
			cell(s.Region), strings.Join(s.Policy, ", "))
	}
	return b.String()
}

// basisOf says in words on what ground r receives data.
func basisOf(r *sharing.Recipient) string {
	if r.Basis == classification.BasisConsent {
		return "consent: THIRD_PARTY_SHARING naming \"" + r.Name + "\""
	}
	if r.Region != "" && !r.Region.InMainland() {
		return string(r.Basis) + "; abroad, with CROSS_BORDER consent unless the goods ship from abroad"
	}
	return string(r.Basis)
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
