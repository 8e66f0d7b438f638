// Package audit keeps the tamper-evident audit log (DESIGN.md rule 7): an
// append-only chain in which each entry's hash covers its content and the
// previous entry's hash, and a head row that holds the newest sequence
// number and hash. Appends are serialised by locking the head row in the
// appending transaction, so concurrent writers never fork the chain.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"veil/classification"
	"veil/ent"
	"veil/ent/auditevent"
	"veil/ent/audithead"
	"veil/ent/auditsubject"
	"veil/ent/predicate"
	"veil/fault"
	"veil/metrics"
	"veil/tracing"
)

// The actions the log records.
const (
	ReadRaw            = "READ_RAW"
	ConsentGranted     = "CONSENT_GRANTED"
	ConsentWithdrawn   = "CONSENT_WITHDRAWN"
	PolicyAccepted     = "POLICY_ACCEPTED"
	PolicyPublished    = "POLICY_PUBLISHED"
	RightsExport       = "RIGHTS_EXPORT"
	RightsCorrection   = "RIGHTS_CORRECTION"
	RightsDeletion     = "RIGHTS_DELETION"
	RightsCancellation = "RIGHTS_CANCELLATION"
	Purge              = "PURGE"
	GuardianRequested  = "GUARDIAN_REQUESTED"
	GuardianAnswered   = "GUARDIAN_ANSWERED"
	GuardianEnded      = "GUARDIAN_ENDED"
	LegalDisclosure    = "LEGAL_DISCLOSURE"
)

// Entry is what an event says; the chain adds the sequence number, time
// and hashes.
type Entry struct {
	ActorID   int
	ActorRole string
	SubjectID int
	Action    string
	// Class is the class the entry is about; for a read, every class the
	// request read, in order, comma-separated (Classes splits it).
	Class   string
	Purpose string
	// Detail holds categories and counts, never a protected value. A read
	// entry's detail is made from Reads.
	Detail string
	// Reads, on a read entry, are the subjects read with their classes:
	// one entry stands for a request's raw reads.
	Reads []Read
	// At, when set, is when the entry happened; otherwise it takes the
	// time of the append.
	At time.Time
}

// Read is what a raw read took of one subject.
type Read struct {
	SubjectID int
	Classes   []string
}

// ReadDetail is the detail of a read entry: each subject with the classes
// read, "12:contact,internal 15:contact".
func ReadDetail(reads []Read) string {
	var b strings.Builder
	for i, r := range reads {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(r.SubjectID))
		b.WriteByte(':')
		b.WriteString(strings.Join(r.Classes, ","))
	}
	return b.String()
}

// Reads returns the subjects and classes a raw-read entry lists, from its
// detail; nil for any other entry. A read entry without a detail is of the
// earlier form, one entry per subject: its subject and class.
func Reads(ev *ent.AuditEvent) ([]Read, error) {
	if ev.Action != ReadRaw {
		return nil, nil
	}
	if ev.Detail == "" {
		if ev.SubjectID == nil {
			return nil, nil
		}
		return []Read{{SubjectID: *ev.SubjectID, Classes: Classes(ev.Class)}}, nil
	}
	fields := strings.Fields(ev.Detail)
	out := make([]Read, len(fields))
	for i, f := range fields {
		id, classes, ok := strings.Cut(f, ":")
		n, err := strconv.Atoi(id)
		if !ok || err != nil || classes == "" {
			return nil, fmt.Errorf("audit: entry %d: malformed read detail", ev.Seq)
		}
		out[i] = Read{SubjectID: n, Classes: strings.Split(classes, ",")}
	}
	return out, nil
}

// Indexed returns the reads the subject index holds: those of a subject.
// A read of rows about no one (subject 0: the system's own rows) has
// nothing to be found by.
func Indexed(reads []Read) []Read {
	out := make([]Read, 0, len(reads))
	for _, r := range reads {
		if r.SubjectID != 0 {
			out = append(out, r)
		}
	}
	return out
}

// By fills the actor of e from a viewer.
func (e Entry) By(v classification.Viewer) Entry {
	e.ActorID, e.ActorRole = v.UserID, string(v.Role)
	return e
}

// EnsureHead creates the chain's head row if the log is new.
func EnsureHead(ctx context.Context, c *ent.Client) error {
	n, err := c.AuditHead.Query().Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	return c.AuditHead.Create().SetSeq(0).SetHash("").Exec(classification.AsSystem(ctx))
}

// Append adds entries to the chain at time at, atomically. Inside a
// transaction (c is a transaction's client) it joins it, so the entries
// commit or roll back with the change they record.
func Append(ctx context.Context, c *ent.Client, at time.Time, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	ctx, span := tracing.Start(ctx, "audit append", trace.WithAttributes(attribute.Int("audit.entries", len(entries))))
	defer span.End()
	tx, err := c.Tx(ctx)
	if errors.Is(err, ent.ErrTxStarted) {
		return appendOn(ctx, c, at, entries)
	}
	if err != nil {
		return err
	}
	if err := appendOn(ctx, tx.Client(), at, entries); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// maxRowsPerInsert keeps a multi-row INSERT under every store's limit on
// bound parameters (len(insertColumns) a row).
const maxRowsPerInsert = 500

func appendOn(ctx context.Context, c *ent.Client, at time.Time, entries []Entry) error {
	// SECURITY: the log is the system's own record, not collection; it is
	// written with plain statements (no Ent hooks), validated here.
	drv := c.Driver()
	d := entsql.Dialect(drv.Dialect())
	// Lock the head and read it in one statement: the no-op update holds
	// the row lock until commit (and SQLite has one writer at a time).
	query, args := d.Update(audithead.Table).Add(audithead.FieldSeq, 0).
		Returning(audithead.FieldSeq, audithead.FieldHash).Query()
	seq, prev, err := readHead(ctx, drv, query, args)
	if err != nil {
		return err
	}
	at = at.UTC()
	dia := drv.Dialect()
	// The statements of the append: the entries in chunks, the subject
	// index of the reads in chunks, then the new head.
	type statement struct {
		columns []string
		table   string
		rows    int
		args    []any
	}
	var stmts []statement
	var index *statement
	for start := 0; start < len(entries); start += maxRowsPerInsert {
		chunk := entries[start:min(start+maxRowsPerInsert, len(entries))]
		st := statement{columns: insertColumns, table: auditevent.Table, rows: len(chunk),
			args: make([]any, 0, len(chunk)*len(insertColumns))}
		for _, e := range chunk {
			seq++
			if len(e.Reads) > 0 {
				e.Detail = ReadDetail(e.Reads)
			}
			if err := errors.Join(auditevent.SeqValidator(seq), auditevent.ActionValidator(e.Action), auditevent.DetailValidator(e.Detail)); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			when := at
			if !e.At.IsZero() {
				when = e.At.UTC()
			}
			when = when.Truncate(time.Microsecond)
			hash := Hash(seq, when, e, prev)
			st.args = append(st.args, seq, when, nullID(e.ActorID), e.ActorRole, nullID(e.SubjectID),
				e.Action, e.Class, e.Purpose, e.Detail, prev, hash)
			prev = hash
			for _, r := range Indexed(e.Reads) {
				if index == nil || index.rows == maxRowsPerInsert*len(insertColumns)/len(subjectColumns) {
					stmts = append(stmts, statement{columns: subjectColumns, table: auditsubject.Table})
					index = &stmts[len(stmts)-1]
				}
				index.rows++
				index.args = append(index.args, seq, r.SubjectID, strings.Join(r.Classes, ","))
			}
		}
		stmts = append(stmts, st)
		index = nil
	}
	if dia == dialect.Postgres && len(stmts) <= 2 {
		// One statement, one round trip while the head is held: the
		// entries, their subject index and the new head together.
		var args []any
		parts := make([]string, len(stmts))
		for i, st := range stmts {
			parts[i] = fmt.Sprintf("s%d AS (%s)", i, insertStatement(dia, st.table, st.columns, st.rows, len(args)))
			args = append(args, st.args...)
		}
		query := "WITH " + strings.Join(parts, ", ") + ` UPDATE "` + audithead.Table + `" SET "` + audithead.FieldSeq +
			`" = $` + strconv.Itoa(len(args)+1) + `, "` + audithead.FieldHash + `" = $` + strconv.Itoa(len(args)+2)
		if err := drv.Exec(ctx, query, append(args, seq, prev), nil); err != nil {
			return err
		}
	} else {
		for _, st := range stmts {
			if err := drv.Exec(ctx, insertStatement(dia, st.table, st.columns, st.rows, 0), st.args, nil); err != nil {
				return err
			}
		}
		query, args := d.Update(audithead.Table).Set(audithead.FieldSeq, seq).Set(audithead.FieldHash, prev).Query()
		if err := drv.Exec(ctx, query, args, nil); err != nil {
			return err
		}
	}
	for _, e := range entries {
		metrics.AuditWrites.WithLabelValues(e.Action).Inc()
	}
	return nil
}

// insertColumns are the columns an append writes, in the order of its
// arguments.
var insertColumns = []string{auditevent.FieldSeq, auditevent.FieldAt,
	auditevent.FieldActorID, auditevent.FieldActorRole, auditevent.FieldSubjectID,
	auditevent.FieldAction, auditevent.FieldClass, auditevent.FieldPurpose,
	auditevent.FieldDetail, auditevent.FieldPrevHash, auditevent.FieldHash}

// subjectColumns are the columns of the subject index of reads.
var subjectColumns = []string{auditsubject.FieldSeq, auditsubject.FieldSubjectID, auditsubject.FieldClasses}

// insertStatement is the INSERT of rows rows of columns into table, with
// the placeholders of the dialect, numbered after the first skip on
// PostgreSQL (both stores accept the double-quoted names).
func insertStatement(dia, table string, columns []string, rows, skip int) string {
	var b strings.Builder
	b.Grow(64 + 16*len(columns) + rows*len(columns)*6)
	b.WriteString(`INSERT INTO "` + table + `" (`)
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + c + `"`)
	}
	b.WriteString(") VALUES ")
	n := skip
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i := range columns {
			if i > 0 {
				b.WriteByte(',')
			}
			if n++; dia == dialect.Postgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// readHead runs the head-locking statement and returns the head.
func readHead(ctx context.Context, drv dialect.Driver, query string, args []any) (seq int64, hash string, err error) {
	rows := &entsql.Rows{}
	if err := drv.Query(ctx, query, args, rows); err != nil {
		return 0, "", err
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, "", errors.Join(errors.New("audit: the chain has no head"), rows.Err())
	}
	if err := rows.Scan(&seq, &hash); err != nil {
		return 0, "", err
	}
	return seq, hash, rows.Err()
}

// nullID is an optional user ID as a column value: 0 is NULL.
func nullID(id int) any {
	if id == 0 {
		return nil
	}
	return id
}

// Hash is an entry's hash: SHA-256 over its fields and the previous hash,
// in a fixed, unambiguous layout: each field as its length in bytes, ":"
// and the field, the fields joined by ",".
func Hash(seq int64, at time.Time, e Entry, prev string) string {
	var stack [512]byte
	var num [40]byte
	b := stack[:0]
	b = appendField(b, strconv.AppendInt(num[:0], seq, 10))
	b = append(b, ',')
	b = appendField(b, at.UTC().AppendFormat(num[:0], time.RFC3339Nano))
	for _, f := range [...]string{strconv.Itoa(e.ActorID), e.ActorRole, strconv.Itoa(e.SubjectID), e.Action, e.Class, e.Purpose, e.Detail, prev} {
		b = append(b, ',')
		b = appendField(b, f)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendField[T string | []byte](b []byte, f T) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	return append(b, f...)
}

// Verification is the outcome of checking the chain.
type Verification struct {
	OK      bool
	Checked int
	// FirstBad is the first entry that does not verify (nil if none, or
	// if the damage is at the end: see Reason).
	FirstBad    *ent.AuditEvent
	FirstBadSeq int64
	Reason      string
}

// Verify recomputes the chain from the first entry, in pages, and reports
// the first entry whose sequence number, link or hash is wrong, or a head
// that the last entry does not match (entries removed from the end). It
// reads the whole chain and its head as the system: the caller decides
// who may ask (auditors).
func Verify(ctx context.Context, c *ent.Client) (*Verification, error) {
	ctx = classification.AsSystem(ctx)
	v := &Verification{OK: true}
	var seq int64
	prev := ""
	for {
		page, err := c.AuditEvent.Query().
			Where(auditevent.SeqGT(seq)).
			Order(ent.Asc(auditevent.FieldSeq)).
			Limit(1000).
			All(ctx)
		if err != nil {
			return nil, err
		}
		var bad *ent.AuditEvent
		reason, verified := "", page
		for i, ev := range page {
			switch {
			case ev.Seq != seq+1:
				reason = fmt.Sprintf("sequence jumps from %d to %d: entries are missing", seq, ev.Seq)
			case ev.PrevHash != prev:
				reason = "does not link to the entry before it"
			case ev.Hash != Hash(ev.Seq, ev.At, entryOf(ev), ev.PrevHash):
				reason = "its content does not match its hash"
			}
			if reason != "" {
				bad, verified = ev, page[:i]
				break
			}
			v.Checked++
			seq, prev = ev.Seq, ev.Hash
		}
		// The index of the entries that verified is checked before a later
		// entry's damage is named: the first bad entry is the one named.
		if len(verified) > 0 {
			badIndex, err := checkIndex(ctx, c, verified)
			if err != nil {
				return nil, err
			}
			if badIndex != nil {
				return &Verification{Checked: int(badIndex.Seq - 1), FirstBad: badIndex, FirstBadSeq: badIndex.Seq,
					Reason: "the subject index of its reads does not match it"}, nil
			}
		}
		if bad != nil {
			return &Verification{Checked: v.Checked, FirstBad: bad, FirstBadSeq: bad.Seq, Reason: reason}, nil
		}
		if len(page) == 0 {
			break
		}
	}
	if n, err := c.AuditSubject.Query().Where(auditsubject.SeqGT(seq)).Count(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		return &Verification{Checked: v.Checked, FirstBadSeq: seq + 1,
			Reason: fmt.Sprintf("the subject index lists %d reads after the last entry", n)}, nil
	}
	head, err := c.AuditHead.Query().Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: chain head: %w", err)
	}
	if head.Seq != seq || head.Hash != prev {
		return &Verification{Checked: v.Checked, FirstBadSeq: seq + 1,
			Reason: fmt.Sprintf("the head records %d entries, the log ends at %d: entries after it were removed or altered", head.Seq, seq)}, nil
	}
	return v, nil
}

// checkIndex returns the first entry of page whose reads the subject
// index does not list exactly, or nil.
func checkIndex(ctx context.Context, c *ent.Client, page []*ent.AuditEvent) (*ent.AuditEvent, error) {
	rows, err := c.AuditSubject.Query().
		Where(auditsubject.SeqGTE(page[0].Seq), auditsubject.SeqLTE(page[len(page)-1].Seq)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	indexed := map[int64][]string{}
	for _, r := range rows {
		indexed[r.Seq] = append(indexed[r.Seq], strconv.Itoa(r.SubjectID)+":"+r.Classes)
	}
	for _, ev := range page {
		reads, err := Reads(ev)
		if err != nil {
			return ev, nil
		}
		if ev.Detail == "" {
			reads = nil // the earlier form, found by its subject
		}
		var want []string
		for _, r := range Indexed(reads) {
			want = append(want, strconv.Itoa(r.SubjectID)+":"+strings.Join(r.Classes, ","))
		}
		got := indexed[ev.Seq]
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return ev, nil
		}
	}
	return nil, nil
}

// Classes returns the classes an entry names: one, or for a read, each
// class read.
func Classes(class string) []string {
	if class == "" {
		return nil
	}
	return strings.Split(class, ",")
}

// NamesClass is the filter for entries naming class, alone or among the
// classes of a read.
func NamesClass(class string) (predicate.AuditEvent, error) {
	if err := checkClass(class); err != nil {
		return nil, err
	}
	return predicate.AuditEvent(func(s *entsql.Selector) {
		s.Where(namesClass(s.C(auditevent.FieldClass), class))
	}), nil
}

// checkClass refuses a class filter that names no class of the registry.
func checkClass(class string) error {
	if _, ok := classification.Lookup(class); !ok {
		return fault.Invalid("class", "not a class: name one of the registry's, such as contact")
	}
	return nil
}

// About is the filter for entries about subject: those naming it as their
// subject and the reads that list it. With a class, only those about the
// subject and that class (for a read, a class read of that subject).
func About(subjectID int, class *string) (predicate.AuditEvent, error) {
	if class != nil {
		if err := checkClass(*class); err != nil {
			return nil, err
		}
	}
	return predicate.AuditEvent(func(s *entsql.Selector) {
		t := entsql.Table(auditsubject.Table)
		reads := entsql.Select(t.C(auditsubject.FieldSeq)).From(t).
			Where(entsql.EQ(t.C(auditsubject.FieldSubjectID), subjectID))
		own := entsql.EQ(s.C(auditevent.FieldSubjectID), subjectID)
		if class != nil {
			reads.Where(namesClass(t.C(auditsubject.FieldClasses), *class))
			own = entsql.And(own, namesClass(s.C(auditevent.FieldClass), *class))
		}
		s.Where(entsql.Or(own, entsql.In(s.C(auditevent.FieldSeq), reads)))
	}), nil
}

// namesClass matches a column holding class alone or in a comma-separated
// list.
func namesClass(column, class string) *entsql.Predicate {
	return entsql.Or(entsql.EQ(column, class), entsql.HasPrefix(column, class+","),
		entsql.HasSuffix(column, ","+class), entsql.Contains(column, ","+class+","))
}

func entryOf(ev *ent.AuditEvent) Entry {
	e := Entry{ActorRole: ev.ActorRole, Action: ev.Action, Class: ev.Class, Purpose: ev.Purpose, Detail: ev.Detail}
	if ev.ActorID != nil {
		e.ActorID = *ev.ActorID
	}
	if ev.SubjectID != nil {
		e.SubjectID = *ev.SubjectID
	}
	return e
}

// Recorder writes the engine's audited raw reads: one entry per request,
// listing the subjects and classes read. Requests that finish together
// share one append (one
// transaction, one lock of the chain's head, one commit): the chain is a
// single sequence, so appending request by request would make every
// audited read wait for all the others' commits. Each request still
// returns only once its entries are committed.
type Recorder struct {
	Client *ent.Client
	Now    func() time.Time

	mu      sync.Mutex
	queue   []*pending
	writing bool
}

// pending is one request's entries, waiting for the append that commits
// them.
type pending struct {
	entries []Entry
	done    chan error
}

// maxRowsPerAppend bounds one shared append: its entries and the rows of
// their subject index.
const maxRowsPerAppend = 5000

// rows is how many rows p's entries write.
func (p *pending) rows() int {
	n := 0
	for _, e := range p.entries {
		n += 1 + len(e.Reads)
	}
	return n
}

var _ classification.AccessRecorder = (*Recorder)(nil)

// RecordAccesses implements classification.AccessRecorder.
func (r *Recorder) RecordAccesses(ctx context.Context, v classification.Viewer, accesses []classification.Access) error {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	// One entry for the request, listing each subject with the classes
	// read of them (accesses come sorted by subject, then class), and
	// naming every class read.
	e := Entry{Action: ReadRaw, Purpose: string(v.Purpose), At: now}.By(v)
	all := map[string]bool{}
	for i := 0; i < len(accesses); {
		j := i + 1
		for j < len(accesses) && accesses[j].SubjectID == accesses[i].SubjectID {
			j++
		}
		classes := make([]string, j-i)
		for k := range classes {
			classes[k] = accesses[i+k].Class
			all[classes[k]] = true
		}
		e.Reads = append(e.Reads, Read{SubjectID: accesses[i].SubjectID, Classes: classes})
		i = j
	}
	if len(e.Reads) == 1 {
		e.SubjectID = e.Reads[0].SubjectID
	}
	e.Class = strings.Join(slices.Sorted(maps.Keys(all)), ",")
	_, span := tracing.Start(ctx, "audit record", trace.WithAttributes(attribute.Int("audit.subjects", len(e.Reads))))
	defer span.End()
	p := &pending{entries: []Entry{e}, done: make(chan error, 1)}
	r.mu.Lock()
	r.queue = append(r.queue, p)
	if !r.writing {
		r.writing = true
		go r.write()
	}
	r.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The entries may still be written: an access recorded but not
		// served is harmless; served but not recorded never happens.
		return ctx.Err()
	}
}

// write appends what is queued, in shared appends, until the queue is
// empty.
func (r *Recorder) write() {
	for {
		r.mu.Lock()
		n, size, rows := 0, 0, 0
		for n < len(r.queue) && (n == 0 || rows+r.queue[n].rows() <= maxRowsPerAppend) {
			size += len(r.queue[n].entries)
			rows += r.queue[n].rows()
			n++
		}
		batch := r.queue[:n:n]
		r.queue = r.queue[n:]
		if n == 0 {
			r.writing = false
			r.queue = nil
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		entries := make([]Entry, 0, size)
		for _, p := range batch {
			entries = append(entries, p.entries...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := Append(ctx, r.Client, time.Now(), entries...)
		cancel()
		for _, p := range batch {
			p.done <- err
		}
	}
}
