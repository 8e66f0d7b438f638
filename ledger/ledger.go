// Package ledger keeps the consent ledger and the archive of policy
// versions: consents are granted and withdrawn per user, per purpose, per
// policy version, and never deleted (they are the proof of consent).
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"veil/audit"
	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/policyversion"
	"veil/ent/predicate"
	"veil/fault"
)

// Current returns the newest published policy version.
func Current(ctx context.Context, c *ent.Client) (*ent.PolicyVersion, error) {
	v, err := c.PolicyVersion.Query().Order(ent.Desc(policyversion.FieldPublishedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.New(fault.Internal, "no privacy policy has been published")
	}
	return v, err
}

// Scope is what one consent covers: a purpose and, for
// THIRD_PARTY_SHARING, the one recipient it names.
type Scope struct {
	Purpose   classification.ConsentPurpose
	Recipient string
}

// ScopeOf validates a purpose and optional recipient from a request:
// THIRD_PARTY_SHARING needs a recipient, other purposes take none.
func ScopeOf(purpose classification.ConsentPurpose, recipient *string) (Scope, error) {
	s := Scope{Purpose: purpose}
	if recipient != nil {
		s.Recipient = *recipient
	}
	var v check.Checker
	if purpose == classification.ConsentThirdPartySharing {
		v.Text("recipient", s.Recipient, 1, 128)
	} else if s.Recipient != "" {
		v.Fail("recipient", "only THIRD_PARTY_SHARING consents name a recipient")
	}
	return s, v.Err()
}

func activeWhere(subjectID int, s Scope) []predicate.Consent {
	preds := []predicate.Consent{
		consent.UserID(subjectID), consent.PurposeEQ(consent.Purpose(s.Purpose)), consent.WithdrawnAtIsNil(),
	}
	if s.Recipient != "" {
		preds = append(preds, consent.Recipient(s.Recipient))
	} else {
		preds = append(preds, consent.RecipientIsNil())
	}
	return preds
}

// Grant records scope for subjectID under the current policy version,
// unless an active grant by the same person exists (then it returns that):
// a subject's own grant and a guardian's are kept apart, as each counts
// at different ages. grantedBy is the consenting guardian, or 0 when the
// subject consents.
func Grant(ctx context.Context, c *ent.Client, subjectID int, scope Scope, grantedBy int, now time.Time) (*ent.Consent, error) {
	by := consent.GrantedByIsNil()
	if grantedBy != 0 {
		by = consent.GrantedBy(grantedBy)
	}
	existing, err := c.Consent.Query().Where(append(activeWhere(subjectID, scope), by)...).First(ctx)
	if err == nil {
		return existing, nil
	}
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	pv, err := Current(ctx, c)
	if err != nil {
		return nil, err
	}
	create := c.Consent.Create().
		SetUserID(subjectID).
		SetPurpose(consent.Purpose(scope.Purpose)).
		SetPolicyVersion(pv.Version).
		SetGrantedAt(now)
	if scope.Recipient != "" {
		create.SetRecipient(scope.Recipient)
	}
	actor := subjectID
	if grantedBy != 0 {
		create.SetGrantedBy(grantedBy)
		actor = grantedBy
	}
	granted, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	return granted, audit.Append(ctx, c, now, audit.Entry{ActorID: actor, SubjectID: subjectID,
		Action: audit.ConsentGranted, Detail: scope.String() + " under policy " + pv.Version})
}

// String renders the scope for the audit log: the purpose, and the
// recipient of a sharing consent (a party, never a person).
func (s Scope) String() string {
	if s.Recipient == "" {
		return string(s.Purpose)
	}
	return string(s.Purpose) + " to " + s.Recipient
}

// Withdraw ends every active grant of scope for subjectID at now, on
// actorID's request. It returns the last one withdrawn, or nil if none
// was active.
func Withdraw(ctx context.Context, c *ent.Client, actorID, subjectID int, scope Scope, now time.Time) (*ent.Consent, error) {
	active, err := c.Consent.Query().Where(activeWhere(subjectID, scope)...).All(ctx)
	if err != nil {
		return nil, err
	}
	var last *ent.Consent
	for _, a := range active {
		if last, err = c.Consent.UpdateOne(a).SetWithdrawnAt(now).Save(ctx); err != nil {
			return nil, err
		}
	}
	if last == nil {
		return nil, nil
	}
	return last, audit.Append(ctx, c, now, audit.Entry{ActorID: actorID, SubjectID: subjectID,
		Action: audit.ConsentWithdrawn, Detail: scope.String()})
}

// Accept records that subjectID accepts policy version, which must be
// published; acceptedBy is the accepting guardian, or 0 when the subject
// accepts.
func Accept(ctx context.Context, c *ent.Client, subjectID int, version string, acceptedBy int, now time.Time) (*ent.Consent, error) {
	pv, err := c.PolicyVersion.Query().Where(policyversion.Version(version)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.Invalid("version", "no such policy version; see policyVersions")
	}
	if err != nil {
		return nil, err
	}
	// Accepting again what is accepted records nothing new.
	by := consent.GrantedByIsNil()
	if acceptedBy != 0 {
		by = consent.GrantedBy(acceptedBy)
	}
	existing, err := c.Consent.Query().Where(consent.UserID(subjectID), consent.PurposeEQ(consent.PurposeACCOUNT),
		consent.PolicyVersion(pv.Version), consent.WithdrawnAtIsNil(), by).First(ctx)
	if err == nil {
		return existing, nil
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	create := c.Consent.Create().
		SetUserID(subjectID).
		SetPurpose(consent.PurposeACCOUNT).
		SetPolicyVersion(pv.Version).
		SetGrantedAt(now)
	actor := subjectID
	if acceptedBy != 0 {
		create.SetGrantedBy(acceptedBy)
		actor = acceptedBy
	}
	accepted, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	return accepted, audit.Append(ctx, c, now, audit.Entry{ActorID: actor, SubjectID: subjectID,
		Action: audit.PolicyAccepted, Detail: "policy " + pv.Version})
}

// NeedsReconsent reports whether subjectID has yet to accept the newest
// major policy version (or any later one); with acceptor not 0, only an
// acceptance by acceptor (a minor's guardian) counts.
func NeedsReconsent(ctx context.Context, c *ent.Client, subjectID, acceptor int) (bool, error) {
	major, err := c.PolicyVersion.Query().
		Where(policyversion.Major(true)).
		Order(ent.Desc(policyversion.FieldPublishedAt)).
		First(ctx)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	since, err := c.PolicyVersion.Query().
		Where(policyversion.PublishedAtGTE(major.PublishedAt)).
		Select(policyversion.FieldVersion).
		Strings(ctx)
	if err != nil {
		return false, err
	}
	preds := []predicate.Consent{consent.UserID(subjectID), consent.PurposeEQ(consent.PurposeACCOUNT),
		consent.WithdrawnAtIsNil(), consent.PolicyVersionIn(since...)}
	if acceptor != 0 {
		preds = append(preds, consent.GrantedBy(acceptor))
	}
	accepted, err := c.Consent.Query().Where(preds...).Exist(ctx)
	return !accepted, err
}

// versionName is what a policy version may be called: nothing that can
// pass for another version (spaces, invisible or reordering characters).
var versionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// shorten cuts s to at most n bytes, at a character boundary, marking the
// cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(" ...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " ..."
}

// PublishInput is a new version of the policy: the GraphQL input
// PublishPolicyVersionInput.
type PublishInput struct {
	Version string `json:"version"`
	Major   bool   `json:"major"`
	Summary string `json:"summary"`
	// Text is the full text in Chinese, which stands; TextEn the English
	// text or summary published with it, if any.
	Text   string  `json:"text"`
	TextEn *string `json:"textEn"`
	// ReducesRights says the version reduces users' rights: it must be
	// major, so that it binds only those who accept it (P7).
	ReducesRights *bool `json:"reducesRights"`
	// Controller names who controls the data from this version on; empty
	// keeps the version before's. A new one is a transfer (P3.2): major
	// when the purposes change, so nobody's data is processed under the
	// new ones before they accept.
	Controller *string `json:"controller"`
}

// Publish archives a new policy version with its full texts and the
// changes from the newest version before it, as actorID (an admin). A
// major version must be accepted again before non-essential operations
// (NeedsReconsent); every signed-in user is told of it by policyNotice.
func Publish(ctx context.Context, c *ent.Client, actorID int, in PublishInput, now time.Time) (*ent.PolicyVersion, error) {
	var v check.Checker
	v.Text("input.version", in.Version, 1, 32)
	if !versionName.MatchString(in.Version) {
		v.Fail("input.version", "letters, digits, '.', '-' and '_' only, starting with a letter or digit (2027-01-01)")
	}
	v.Text("input.summary", in.Summary, 1, 4000)
	v.Text("input.text", in.Text, 1, 1<<20)
	textEn := ""
	if in.TextEn != nil {
		textEn = *in.TextEn
		v.Text("input.textEn", textEn, 1, 1<<20)
	}
	reduces := in.ReducesRights != nil && *in.ReducesRights
	controller := ""
	if in.Controller != nil && strings.TrimSpace(*in.Controller) != "" {
		controller = strings.TrimSpace(*in.Controller)
		v.Text("input.controller", controller, 1, 200)
	}
	if reduces && !in.Major {
		v.Fail("input.major", "a version that reduces users' rights is major: it binds no one until they accept it (POLICY.md P7)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	exists, err := c.PolicyVersion.Query().Where(policyversion.Version(in.Version)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, fault.Invalid("input.version", "this version is already published")
	}
	changes := Changes("", in.Text)
	prev, err := c.PolicyVersion.Query().Order(ent.Desc(policyversion.FieldPublishedAt)).First(ctx)
	switch {
	case err == nil:
		changes = Changes(prev.Text, in.Text)
		if textEn != "" && prev.TextEn != "" {
			changes = Changes(prev.TextEn, textEn) + " (English text); " + changes + " (Chinese text)"
		}
		if controller == "" {
			controller = prev.Controller
		} else if controller != prev.Controller {
			was := prev.Controller
			if was == "" {
				was = "as the text before named"
			}
			changes = "the controller changes from " + was + " to " + controller + " (a transfer, P3.2); " + changes
		}
	case !ent.IsNotFound(err):
		return nil, err
	}
	changes = shorten(changes, 4000)
	sum := sha256.Sum256([]byte(in.Text))
	pv, err := c.PolicyVersion.Create().
		SetVersion(in.Version).
		SetMajor(in.Major).
		SetSummary(in.Summary).
		SetText(in.Text).
		SetTextEn(textEn).
		SetChanges(changes).
		SetReducesRights(reduces).
		SetController(controller).
		SetContentHash(hex.EncodeToString(sum[:])).
		SetPublishedAt(now).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	kind := "minor"
	if in.Major {
		kind = "major"
	}
	return pv, audit.Append(ctx, c, now, audit.Entry{ActorID: actorID, ActorRole: string(classification.RoleAdmin),
		Action: audit.PolicyPublished, Detail: kind + " version " + in.Version})
}
