// Package sharing is the one way personal information leaves Veil for
// another party (POLICY.md P3.1, P4.2). Every recipient is declared here
// with its region, its lawful basis, the classes it may receive and why;
// Disclose checks a disclosure against its recipient's declaration and
// the subject's consents, records it in the sharing ledger, and refuses
// what the policy does not allow. The third-party sharing list
// (inventory) is generated from the same declarations.
package sharing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/user"
	"veil/fault"
	"veil/privacy"
	"veil/rights"
)

// Recipient is a declared recipient of personal information.
type Recipient struct {
	// Name identifies the recipient: the sharing ledger records it and a
	// THIRD_PARTY_SHARING consent names it.
	Name string
	// Party is who it is, as the sharing list shows it.
	Party string
	// Region is where the recipient receives the data; empty for the
	// order's counterparty, whose region is the listing's (Disclosure.Region).
	Region classification.Region
	// Basis is the lawful basis of the disclosure: BasisContract needs no
	// consent (POLICY.md P1.12, performing a contract the user asked
	// for); BasisConsent needs the subject's THIRD_PARTY_SHARING consent
	// naming this recipient.
	Basis classification.LawfulBasis
	// Purpose, Classes, Scenario and Method are what the recipient gets,
	// why, when and how: the rows of the sharing list.
	Purpose  string
	Classes  []*classification.Class
	Scenario string
	Method   string
	// Carrier marks a courier a seller may ship with.
	Carrier bool
	Policy  []string
}

// The declared recipients.
var (
	// Seller is the counterparty of an order: a user of the platform.
	Seller = &Recipient{
		Name: "seller", Party: "the seller of the order (a user of the platform)",
		Basis:    classification.BasisContract,
		Purpose:  "delivery and after-sales of the order",
		Classes:  []*classification.Class{classification.OrderContact, classification.Transaction},
		Scenario: "when an order is paid", Method: "shown in the app to the seller",
		Policy: []string{"P1.5", "P3.1"},
	}
	SFExpress = &Recipient{
		Name: "SF Express", Party: "S.F. Express Co., Ltd. (courier)", Region: classification.Mainland,
		Basis: classification.BasisContract, Purpose: "delivering the order",
		Classes:  []*classification.Class{classification.OrderContact},
		Scenario: "when the seller ships an order with this courier", Method: "the recipient phone on the waybill",
		Carrier: true, Policy: []string{"P3.1"},
	}
	EMS = &Recipient{
		Name: "China Post EMS", Party: "China Postal Express & Logistics Co., Ltd. (courier)", Region: classification.Mainland,
		Basis: classification.BasisContract, Purpose: "delivering the order",
		Classes:  []*classification.Class{classification.OrderContact},
		Scenario: "when the seller ships an order with this courier", Method: "the recipient phone on the waybill",
		Carrier: true, Policy: []string{"P3.1"},
	}
	// FedEx receives the waybill outside mainland China: for goods that
	// cross the border that is the buyer's own trade, for any other order
	// it is a transfer abroad that needs the buyer's CROSS_BORDER consent.
	FedEx = &Recipient{
		Name: "FedEx International", Party: "Federal Express Corporation (international courier)", Region: "US",
		Basis: classification.BasisContract, Purpose: "delivering the order across the border",
		Classes:  []*classification.Class{classification.OrderContact},
		Scenario: "when the seller ships an order with this courier", Method: "the recipient phone on the waybill, received in the United States",
		Carrier: true, Policy: []string{"P3.1", "P4.2"},
	}
)

// Affiliate is a company of the same group under one account system
// (P3.1): it receives a user's login phone, public profile and orders only
// on the user's THIRD_PARTY_SHARING consent naming it, in the file the
// operator sends (server share).
var Affiliate = &Recipient{
	Name: "Veil Instalments", Party: "Veil Instalments Co., Ltd. (affiliate, one account system)", Region: classification.Mainland,
	Basis: classification.BasisConsent, Purpose: "offering instalment payment for the user's orders under one account",
	Classes:  []*classification.Class{classification.Contact, classification.PublicProfile, classification.Transaction},
	Scenario: "each time the operator sends the affiliate its file, for users who consented", Method: "a file sent by the operator (server share)",
	Policy: []string{"P3.1"},
}

// Authority is a public authority that formally demands a user's data
// with legal documents (P3.3, P1.12): it may receive any class the export
// holds, chosen per demand, encrypted to its key (see DiscloseOnDemand).
var Authority = &Recipient{
	Name: "public authority", Party: "a public authority demanding it formally, with legal documents (police, court, regulator)", Region: classification.Mainland,
	Basis: classification.BasisLegalObligation, Purpose: "answering a formal legal demand",
	Classes:  rights.ExportedClasses(),
	Scenario: "when an auditor records a demand and its legal document", Method: "an export encrypted to the authority's key",
	Policy: []string{"P3.3", "P1.12"},
}

// Recipients lists every declared recipient, in the sharing list's order.
var Recipients = []*Recipient{Seller, SFExpress, EMS, FedEx, Affiliate, Authority}

// Lookup returns the declared recipient named name.
func Lookup(name string) (*Recipient, bool) {
	for _, r := range Recipients {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// Carrier returns the declared courier named name, or a VALIDATION_FAILED
// error on field naming the couriers there are.
func Carrier(field, name string) (*Recipient, error) {
	if r, ok := Lookup(name); ok && r.Carrier {
		return r, nil
	}
	var names []string
	for _, r := range Recipients {
		if r.Carrier {
			names = append(names, r.Name)
		}
	}
	return nil, fault.Invalid(field, "not a courier Veil shares with; one of: "+strings.Join(names, ", "))
}

// ErrSubjectCancelled refuses a disclosure about a cancelled account: what
// is kept of it is kept under legal hold, and only a legal demand
// discloses it (POLICY.md P5.3, P3.3).
var ErrSubjectCancelled = errors.New("sharing: the subject has cancelled their account")

// Disclosure is one disclosure of a subject's personal information.
type Disclosure struct {
	To *Recipient
	// Party is who receives it when that is a person (user:<id> for the
	// seller); empty means To.Name.
	Party string
	// Region is where the recipient is, for a recipient that declares none.
	Region classification.Region
	// Subject is whose information it is.
	Subject int
	// Classes are what is disclosed: a subset of To.Classes.
	Classes []*classification.Class
	OrderID int
	// OwnCrossBorderTrade says the disclosure serves the subject's own
	// cross-border trade (goods shipped from outside the mainland), which
	// P4.2 allows abroad without a separate consent.
	OwnCrossBorderTrade bool
	// Confidential keeps the disclosure out of the sharing ledger the
	// subject reads: a legal demand that forbids telling them. It is
	// recorded in the audit log instead (DiscloseOnDemand).
	Confidential bool
}

// region returns where the disclosure goes.
func (d Disclosure) region() classification.Region {
	if d.To.Region != "" {
		return d.To.Region
	}
	return d.Region
}

// Disclose checks d and records it in the sharing ledger, in c's
// transaction when c is one (the disclosure and what caused it commit
// together). It refuses, with CONSENT_REQUIRED (or GUARDIAN_CONSENT_
// REQUIRED for a minor) naming the purpose:
//   - a recipient on a consent basis without the subject's THIRD_PARTY_
//     SHARING consent naming it (P3.1, PIPL Art. 23);
//   - a recipient outside mainland China without the subject's CROSS_BORDER
//     consent, unless it serves their own cross-border trade (P4.2,
//     PIPL Art. 39).
//
// A disclosure of a class its recipient does not declare, or to an
// undeclared region, is a programming error.
func Disclose(ctx context.Context, c *ent.Client, d Disclosure, now time.Time) error {
	if err := d.declared(); err != nil {
		return err
	}
	if d.To != Authority {
		// SECURITY: whether the subject left is a fact of the system's,
		// whoever asks.
		gone, err := c.User.Query().Where(user.ID(d.Subject), user.StatusEQ(user.StatusCANCELLED)).Exist(classification.AsSystem(ctx))
		if err != nil {
			return err
		}
		if gone {
			return ErrSubjectCancelled
		}
	}
	what := "sharing with " + d.To.Name
	if d.To.Basis == classification.BasisConsent {
		if err := privacy.Consented(ctx, c, d.Subject, classification.ConsentThirdPartySharing, d.To.Name, what, now); err != nil {
			return err
		}
	}
	region := d.region()
	if !region.InMainland() && !d.OwnCrossBorderTrade {
		if err := privacy.Consented(ctx, c, d.Subject, classification.ConsentCrossBorder, "", what+" outside mainland China", now); err != nil {
			return err
		}
	}
	if d.Confidential {
		if d.To != Authority {
			return fmt.Errorf("sharing: only a legal demand may be kept from its subject")
		}
		return nil
	}
	names := make([]string, len(d.Classes))
	for i, cl := range d.Classes {
		names[i] = cl.Name
	}
	party := d.Party
	if party == "" {
		party = d.To.Name
	}
	create := c.SharingRecord.Create().
		SetUserID(d.Subject).
		SetRecipient(party).
		SetDataCategories(names).
		SetPurpose(d.To.Purpose).
		SetLegalBasis(string(d.To.Basis)).
		SetRegion(string(region)).
		SetSharedAt(now)
	if d.OrderID != 0 {
		create.SetOrderID(d.OrderID)
	}
	return create.Exec(ctx)
}

func (d Disclosure) declared() error {
	if d.To == nil || d.Subject == 0 || len(d.Classes) == 0 {
		return fmt.Errorf("sharing: a disclosure needs a recipient, a subject and classes")
	}
	if _, ok := Lookup(d.To.Name); !ok {
		return fmt.Errorf("sharing: recipient %q is not declared", d.To.Name)
	}
	if _, err := classification.ParseRegion(string(d.region())); err != nil {
		return fmt.Errorf("sharing: to %s: %w", d.To.Name, err)
	}
	for _, cl := range d.Classes {
		if !declares(d.To, cl) {
			return fmt.Errorf("sharing: %s is not declared to receive %s", d.To.Name, cl.Name)
		}
	}
	return nil
}
