package privacy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	entgo "entgo.io/ent"

	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/user"
	"veil/fault"
)

// isSystem reports whether ctx is the system's own processing (seeding,
// anonymising a cancelled account, purging past retention: see
// classification.AsSystem), which is not collection and needs no consent.
func isSystem(ctx context.Context) bool { return classification.FromContext(ctx).IsSystem() }

type nowKey struct{}

// WithNow sets the clock the hook derives ages from, for one request.
func WithNow(ctx context.Context, now time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, now)
}

func nowFrom(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// consentHook is the Ent hook that checks every create and update.
func consentHook() entgo.Hook {
	return func(next entgo.Mutator) entgo.Mutator {
		return entgo.MutateFunc(func(ctx context.Context, m entgo.Mutation) (entgo.Value, error) {
			if !m.Op().Is(entgo.OpCreate | entgo.OpUpdate | entgo.OpUpdateOne) {
				return next.Mutate(ctx, m)
			}
			if err := check(ctx, m); err != nil {
				return nil, err
			}
			return next.Mutate(ctx, m)
		})
	}
}

// loginIdentity are the classes collected to open an account at all: the
// login phone and the account's own bookkeeping (P1.2), consents and
// guardianships included.
func loginIdentity(c *classification.Class) bool {
	return c == classification.Contact || c == classification.Internal || c == classification.ConsentRecord || c == classification.Guardianship ||
		c == classification.SecretData || c.Level == classification.Public
}

func check(ctx context.Context, m entgo.Mutation) error {
	if isSystem(ctx) {
		// System processing writes no collected data; codegen already
		// keeps never-stored classes out of the schema.
		return nil
	}
	classes, ok := ent.Classes[m.Type()]
	if !ok {
		return fmt.Errorf("privacy: no classes for type %s", m.Type())
	}
	var w collection
	fields := append(m.Fields(), m.AddedFields()...)
	for _, f := range fields {
		c, ok := classification.Lookup(classes[f])
		if !ok {
			return fmt.Errorf("privacy: %s.%s has no class", m.Type(), f)
		}
		if c.NeverStored {
			return fmt.Errorf("privacy: %s.%s is of class %s, which is never stored", m.Type(), f, c.Name)
		}
		w.add(c, f)
	}
	if len(w.needs) == 0 && !w.beyondLogin {
		return nil
	}
	cm, ok := m.(interface{ Client() *ent.Client })
	if !ok {
		return fmt.Errorf("privacy: mutation %T has no client", m)
	}
	subjectID, newBirth, err := subjectOf(ctx, m)
	if err != nil {
		return err
	}
	if subjectID == 0 {
		// A new account: only its login identity may be written.
		return errors.New("privacy: a new account may hold only its login phone")
	}
	return allowed(ctx, cm.Client(), subjectID, newBirth, w)
}

// collection is what one write collects: the consent purposes its classes
// need, with the fields that need each, and whether it goes beyond the
// login identity, and beyond real-name verification.
type collection struct {
	needs                    map[classification.ConsentPurpose][]string
	beyondLogin, beyondIdent bool
}

func (w *collection) add(c *classification.Class, field string) {
	if c.Basis == classification.BasisConsent {
		if w.needs == nil {
			w.needs = map[classification.ConsentPurpose][]string{}
		}
		w.needs[c.Consent] = append(w.needs[c.Consent], field)
	}
	if !loginIdentity(c) {
		w.beyondLogin = true
		// Real-name verification is how a minor's age is found at all
		// (P1.3): a minor of 14 to 17 is verified on their own consent.
		w.beyondIdent = w.beyondIdent || c.Consent != classification.ConsentRealName
	}
}

// AllowedFor reports whether values of the given classes may be collected
// about subjectID now, by the same rules as the hook, without writing;
// birth, when not empty, is the birth date the values would reveal. It
// is for processing that happens before anything is stored (a face image
// sent to a provider, an ID number sent to the verifier).
func AllowedFor(ctx context.Context, c *ent.Client, subjectID int, birth string, classes ...*classification.Class) error {
	if isSystem(ctx) {
		return nil
	}
	var w collection
	for _, cl := range classes {
		w.add(cl, cl.Name)
	}
	return allowed(ctx, c, subjectID, birth, w)
}

// batchKey holds the facts of one batch write (see Batch).
type batchKey struct{}

type batchFacts struct {
	subjects map[int]subjectFacts
}

type subjectFacts struct {
	user   *ent.User
	active []*ent.Consent
}

// Batch returns a ctx for one bulk write: the subject and consent look-ups
// of its records are made once, not once per record. Nothing else may
// write between the look-up and the bulk insert, so use it for a single
// CreateBulk only.
func Batch(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchKey{}, &batchFacts{subjects: map[int]subjectFacts{}})
}

func lookUp(ctx context.Context, client *ent.Client, subjectID int) (subjectFacts, error) {
	batch, _ := ctx.Value(batchKey{}).(*batchFacts)
	if batch != nil {
		if f, ok := batch.subjects[subjectID]; ok {
			return f, nil
		}
	}
	// SECURITY: the facts a write is checked against are read as the
	// system: no row rule may hide them.
	sys := classification.AsSystem(ctx)
	subj, err := client.User.Query().Where(user.ID(subjectID)).
		Select(user.FieldBirthDate, user.FieldGuardianID).Only(sys)
	if err != nil {
		return subjectFacts{}, fmt.Errorf("privacy: load subject: %w", err)
	}
	active, err := client.Consent.Query().
		Where(consent.UserID(subjectID), consent.WithdrawnAtIsNil()).
		All(sys)
	if err != nil {
		return subjectFacts{}, err
	}
	f := subjectFacts{user: subj, active: active}
	if batch != nil {
		batch.subjects[subjectID] = f
	}
	return f, nil
}

// Who gave a consent that counts (see subjectFacts.granted).
const (
	byTheSubject  = iota // the subject themself: an adult
	byAnyone             // the subject or the guardian they accepted: a minor, or age unknown
	byTheGuardian        // their current guardian only
)

// granted reports whether purpose p is active for the subject, given by
// whom counts. Every active grant is looked at, so that none shadows
// another; a guardian's grant never counts for an adult, so it ends with
// the 18th birthday.
// A recipient, when not empty, must be the one the grant names.
func (f subjectFacts) granted(p classification.ConsentPurpose, recipient string, by int) bool {
	guardian := f.user.GuardianID
	for _, c := range f.active {
		if classification.ConsentPurpose(c.Purpose) != p || recipient != "" && (c.Recipient == nil || *c.Recipient != recipient) {
			continue
		}
		fromGuardian := guardian != nil && c.GrantedBy != nil && *c.GrantedBy == *guardian
		switch {
		case by == byTheSubject && c.GrantedBy == nil,
			by == byAnyone && (c.GrantedBy == nil || fromGuardian),
			by == byTheGuardian && fromGuardian:
			return true
		}
	}
	return false
}

func (f subjectFacts) ageGroup(newBirth string, now time.Time) classification.AgeGroup {
	birth := newBirth
	if birth == "" && f.user.BirthDate != nil {
		birth = *f.user.BirthDate
	}
	return classification.AgeGroupOf(birth, now)
}

// allowed applies the consent rules to one write about subjectID:
//   - an adult needs their own consent to each purpose active, and
//     someone whose age is not known their own or their guardian's
//     (CONSENT_REQUIRED);
//   - a child under 14 needs the guardian's consent to the account for
//     anything beyond the login phone, and the guardian's consent to
//     each purpose; the child's own consents do not count (P6.4);
//   - a minor of 14 to 17 needs the guardian's consent to the account for
//     anything beyond the login phone and real-name verification (P6.1),
//     and the guardian's consent to each purpose the basic service does
//     not need (P6.2); other purposes take the minor's own consent too.
//
// Each is GUARDIAN_CONSENT_REQUIRED naming the purpose.
func allowed(ctx context.Context, client *ent.Client, subjectID int, newBirth string, w collection) error {
	facts, err := lookUp(ctx, client, subjectID)
	if err != nil {
		return err
	}
	age := facts.ageGroup(newBirth, nowFrom(ctx))
	switch age {
	case classification.AgeChild:
		if w.beyondLogin && !facts.granted(classification.ConsentAccount, "", byTheGuardian) {
			return guardianNeeded(classification.ConsentAccount,
				"this account belongs to a child under 14: a verified guardian must be linked (linkChild) and consent first")
		}
	case classification.AgeMinor:
		if w.beyondIdent && !facts.granted(classification.ConsentAccount, "", byTheGuardian) {
			return guardianNeeded(classification.ConsentAccount,
				"users under 18 need their guardian's consent to use the service: a verified guardian must be linked (linkChild) and consent first")
		}
	}
	for _, p := range sortedPurposes(w.needs) {
		if err := facts.require(age, p, "", "collecting "+strings.Join(w.needs[p], ", ")); err != nil {
			return err
		}
	}
	return nil
}

// require returns nil when consent p (to recipient, when not empty) is
// held by whoever must give it at age, else the coded error naming what
// needs it.
func (f subjectFacts) require(age classification.AgeGroup, p classification.ConsentPurpose, recipient, what string) error {
	switch {
	case age == classification.AgeChild || age == classification.AgeMinor && p.Optional():
		if !f.granted(p, recipient, byTheGuardian) {
			return guardianNeeded(p, "a guardian must grant consent "+string(p)+" for this user (grantConsent with forUser)")
		}
	case age == classification.AgeAdult && !f.granted(p, recipient, byTheSubject),
		age != classification.AgeAdult && !f.granted(p, recipient, byAnyone):
		return fault.NeedsConsent(string(p), what)
	}
	return nil
}

// Consented returns nil when subjectID's consent p, to recipient when not
// empty, counts on day now by the rules of collection: an adult's own, a
// minor's guardian's for what the basic service does not need. Otherwise
// it is CONSENT_REQUIRED or GUARDIAN_CONSENT_REQUIRED naming the purpose,
// with what as the processing that needs it. System processing is not
// exempt: it is for disclosures, which the system makes too.
func Consented(ctx context.Context, client *ent.Client, subjectID int, p classification.ConsentPurpose, recipient, what string, now time.Time) error {
	facts, err := lookUp(ctx, client, subjectID)
	if err != nil {
		return err
	}
	return facts.require(facts.ageGroup("", now), p, recipient, what)
}

func guardianNeeded(p classification.ConsentPurpose, message string) error {
	return &fault.Error{Code: fault.GuardianConsentRequired, Purpose: string(p), Message: message}
}

// Acceptor returns whose acceptance of the privacy policy, and consent to
// the account, lets userID use the service beyond the essential
// operations on day now: the user's own (0) for an adult or someone whose
// age is not known; for a minor, their guardian's, and GUARDIAN_CONSENT_
// REQUIRED when that consent is not active (POLICY.md P6.1).
func Acceptor(ctx context.Context, client *ent.Client, userID int, now time.Time) (int, error) {
	facts, err := lookUp(ctx, client, userID)
	if err != nil {
		return 0, err
	}
	switch facts.ageGroup("", now) {
	case classification.AgeChild, classification.AgeMinor:
	default:
		return 0, nil
	}
	if !facts.granted(classification.ConsentAccount, "", byTheGuardian) {
		return 0, guardianNeeded(classification.ConsentAccount,
			"users under 18 need their guardian's consent to use the service: a verified guardian must be linked (linkChild) and consent first; reading the policy, managing consents, exporting and cancelling still work")
	}
	return *facts.user.GuardianID, nil
}

func sortedPurposes(needs map[classification.ConsentPurpose][]string) []classification.ConsentPurpose {
	out := make([]classification.ConsentPurpose, 0, len(needs))
	for p := range needs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// subjectOf returns whom a mutation writes about: the user itself, or the
// user_id of an owned record. A new user has no subject yet (zero). For a
// user, newBirth is the birth date the mutation sets, if any.
func subjectOf(ctx context.Context, m entgo.Mutation) (id int, newBirth string, err error) {
	if m.Type() == "User" {
		if v, ok := m.Field(user.FieldBirthDate); ok {
			newBirth, _ = v.(string)
		}
		if m.Op().Is(entgo.OpCreate) {
			return 0, newBirth, nil
		}
		idm, ok := m.(interface{ ID() (int, bool) })
		if !ok {
			return 0, "", errors.New("privacy: bulk updates of users must run as the system (classification.AsSystem)")
		}
		id, exists := idm.ID()
		if !exists || !m.Op().Is(entgo.OpUpdateOne) {
			return 0, "", errors.New("privacy: bulk updates of users must run as the system (classification.AsSystem)")
		}
		return id, newBirth, nil
	}
	column := ent.Records[m.Type()].SubjectColumn()
	if column == "" {
		return 0, "", fmt.Errorf("privacy: %s collects personal data but has no owner", m.Type())
	}
	if v, ok := m.Field(column); ok {
		id, _ := v.(int)
		return id, "", nil
	}
	if m.Op().Is(entgo.OpUpdateOne) {
		v, err := m.OldField(ctx, column)
		if err != nil {
			return 0, "", err
		}
		id, _ := v.(int)
		return id, "", nil
	}
	return 0, "", fmt.Errorf("privacy: bulk updates of %s must run as the system (classification.AsSystem)", m.Type())
}
