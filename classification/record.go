package classification

import (
	"encoding/json"
	"fmt"
	"slices"

	"entgo.io/ent/schema"
)

// RecordAnnotationName is the key of the record annotation in Ent's
// annotation maps.
const RecordAnnotationName = "Record"

// The kinds of rows a type holds (Record.Rows).
const (
	// RowsPerson: each row is a person (the User type); it is about itself.
	RowsPerson = "person"
	// RowsAbout: each row is about the user its Subject column names.
	RowsAbout = "about"
	// RowsPublic: rows anyone may see (listings, policy versions, SDKs).
	RowsPublic = "public"
	// RowsSystem: the system's own bookkeeping, about no user and never
	// served (login codes, the audit chain's head).
	RowsSystem = "system"
)

// What cancellation does to a type's rows (Record.OnCancel).
const (
	// Erase: the rows are deleted when their subject cancels.
	Erase = "erase"
	// Keep: the rows are kept, for the reason in Record.Kept.
	Keep = "keep"
	// Anonymise: the row is the person, and is anonymised.
	Anonymise = "anonymise"
)

// DataCategories are the categories a user may ask to delete
// (deleteMyData); each is declared by exactly one type.
var DataCategories = []string{
	"ADDRESS_BOOK", "CALL_LOG", "ACTIVITY", "APP_LOGS", "LOCATION", "DEVICES",
	"THIRD_PARTY_ACCOUNTS", "FACE_VERIFICATIONS", "SUPPORT_TICKETS", "ORDERS",
}

// Record is declared on every Ent type: whom its rows are about, who is
// their counterparty, and their fate under the subject's rights. Codegen
// refuses a type without one, and generates from it the subject look-ups,
// the row rule, and the per-type erase, export and retention code.
// Only exported, JSON-tagged fields survive codegen.
type Record struct {
	// Rows is RowsPerson, RowsAbout, RowsPublic or RowsSystem.
	Rows string `json:"rows"`
	// Subject is the column naming the user a row is about (RowsAbout).
	Subject string `json:"subject,omitempty"`
	// Counterparty is the column naming the other party of the row (an
	// order's seller), who sees what its classes share with them.
	Counterparty string `json:"counterparty,omitempty"`
	// Category is the deletion category the rows belong to, if any.
	Category string `json:"category,omitempty"`
	// OnCancel is Erase, Keep or Anonymise.
	OnCancel string `json:"on_cancel,omitempty"`
	// Kept says why kept rows are kept (the law, or the proof they are).
	Kept string `json:"kept,omitempty"`
	// Expires is the time field from which the retention of that field's
	// class runs; rows past it are purged.
	Expires string `json:"expires,omitempty"`
	// Exposes are, for public rows, the columns naming users whose public
	// profile the row makes public (a listing's seller).
	Exposes []string `json:"exposes,omitempty"`
}

var _ schema.Annotation = Record{}

// Name implements schema.Annotation.
func (Record) Name() string { return RecordAnnotationName }

// IsPerson declares the type whose rows are people (User). Cancellation
// anonymises the row.
func IsPerson() Record { return Record{Rows: RowsPerson, OnCancel: Anonymise} }

// About declares rows about the user named in column; by default they
// are erased when that user cancels.
func About(column string) Record { return Record{Rows: RowsAbout, Subject: column, OnCancel: Erase} }

// PublicRows declares rows anyone may see; exposes names the columns of
// users whose public profile a row makes public.
func PublicRows(exposes ...string) Record { return Record{Rows: RowsPublic, Exposes: exposes} }

// SystemRows declares the system's own rows, about no one, never served.
func SystemRows() Record { return Record{Rows: RowsSystem} }

// WithCounterparty names the column of the rows' other party.
func (r Record) WithCounterparty(column string) Record { r.Counterparty = column; return r }

// DeletedAs puts the rows in a deletion category of deleteMyData.
func (r Record) DeletedAs(category string) Record { r.Category = category; return r }

// KeptAfterCancel keeps the rows when their subject cancels (and, for a
// category, when they ask to delete it), for the reason given.
func (r Record) KeptAfterCancel(reason string) Record { r.OnCancel, r.Kept = Keep, reason; return r }

// ExpiresFrom makes the rows expire by the retention of field's class,
// counted from field.
func (r Record) ExpiresFrom(field string) Record { r.Expires = field; return r }

// SubjectColumn is the column naming whom a row is about: "id" for
// people, the Subject column for rows about someone, "" otherwise.
func (r Record) SubjectColumn() string {
	switch r.Rows {
	case RowsPerson:
		return "id"
	case RowsAbout:
		return r.Subject
	}
	return ""
}

// Check reports what is wrong with a declaration on a type with the
// given fields.
func (r Record) Check(fields []string) error {
	has := func(f string) bool { return f == "id" || slices.Contains(fields, f) }
	switch r.Rows {
	case RowsPerson:
		if r.OnCancel != Anonymise {
			return fmt.Errorf("a person is anonymised on cancellation")
		}
	case RowsAbout:
		if r.Subject == "" || !has(r.Subject) {
			return fmt.Errorf("subject column %q is not a field", r.Subject)
		}
		if r.OnCancel != Erase && r.OnCancel != Keep {
			return fmt.Errorf("on cancellation rows are erased or kept, not %q", r.OnCancel)
		}
		if r.OnCancel == Keep && r.Kept == "" {
			return fmt.Errorf("kept rows must say why (KeptAfterCancel)")
		}
	case RowsPublic, RowsSystem:
		if r.Subject != "" || r.Counterparty != "" || r.Category != "" || r.OnCancel != "" {
			return fmt.Errorf("%s rows are about no one: no subject, counterparty, category or fate", r.Rows)
		}
	default:
		return fmt.Errorf("unknown kind of rows %q", r.Rows)
	}
	if r.Counterparty != "" && !has(r.Counterparty) {
		return fmt.Errorf("counterparty column %q is not a field", r.Counterparty)
	}
	if r.Category != "" && !slices.Contains(DataCategories, r.Category) {
		return fmt.Errorf("unknown deletion category %q", r.Category)
	}
	if r.Expires != "" && !has(r.Expires) {
		return fmt.Errorf("expiry field %q is not a field", r.Expires)
	}
	for _, c := range r.Exposes {
		if !has(c) {
			return fmt.Errorf("exposed column %q is not a field", c)
		}
	}
	return nil
}

// RecordOf returns the record declaration in an Ent annotation map, as
// codegen sees it (a decoded JSON map) or as the schema declares it.
func RecordOf(annotations map[string]any) (Record, error) {
	raw, ok := annotations[RecordAnnotationName]
	if !ok {
		return Record{}, fmt.Errorf("no record declaration: say whom its rows are about (classification.About, IsPerson, PublicRows or SystemRows)")
	}
	var r Record
	buf, err := json.Marshal(raw)
	if err != nil {
		return Record{}, err
	}
	if err := json.Unmarshal(buf, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}
