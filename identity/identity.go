// Package identity verifies who a user is: real name and ID number
// (POLICY.md P1.3), guardianships proven by both sides (P6), and live
// face checks whose images are never kept (P1.3a).
package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"entgo.io/ent/dialect"

	"veil/audit"
	"veil/check"
	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ent/auditevent"
	"veil/ent/consent"
	"veil/ent/faceverification"
	"veil/ent/guardianlink"
	"veil/ent/realnameverification"
	"veil/ent/user"
	"veil/fault"
	"veil/idcard"
	"veil/ledger"
	"veil/privacy"
	"veil/ratelimit"
	"veil/reqctx"
	"veil/store"
)

// Verifier checks a name and ID number with an official source (the public
// security identity service, or Alipay).
type Verifier interface {
	// Name identifies the verifier in the verification record.
	Name() string
	// Verify reports whether name and number belong together.
	Verify(ctx context.Context, realName, idNumber string) (bool, error)
}

// FaceProvider runs a live face check on an image. It must not keep the
// image beyond the call.
type FaceProvider interface {
	Name() string
	Verify(ctx context.Context, userID int, image []byte) (passed bool, err error)
}

// Service verifies identities.
type Service struct {
	Client   *ent.Client
	Verifier Verifier
	Face     FaceProvider
	// AddressLimiter, when set, bounds real-name verifications per client
	// address.
	AddressLimiter *ratelimit.Limiter
}

// RealNameInput is the GraphQL input RealNameInput.
type RealNameInput struct {
	RealName   string  `json:"realName"`
	IDNumber   string  `json:"idNumber"`
	IDPhotoRef *string `json:"idPhotoRef"`
}

// ErrAlreadyVerified is returned for a second verification of one account.
var ErrAlreadyVerified = fault.Invalid("input", "this account is already real-name verified")

func checkRealName(v *check.Checker, field, name string) {
	v.Text(field, name, 2, 64)
	for _, r := range name {
		if !unicode.IsLetter(r) && r != '·' && r != ' ' {
			v.Fail(field, "must be a person's name: letters, spaces and ·")
			return
		}
	}
}

func parseID(v *check.Checker, field, number string, now time.Time) idcard.Number {
	n, err := idcard.Parse(number, now)
	if err != nil {
		v.Fail(field, err.Error())
	}
	return n
}

// MaxRealNameAttempts bounds the real-name verifications one account may
// try in a day (AddressLimiter bounds them per client address).
const MaxRealNameAttempts = 5

// errNotVerified is the one answer to a verification that did not pass,
// whether the verifier found no match or the number is verified on
// another account: no answer tells whether an ID number is registered.
var errNotVerified = fault.Invalid("input", "the name and ID number could not be verified")

// SubmitRealName verifies userID's own name and ID number and, if they
// pass, records them on the account. A child's number is refused before
// the verifier is asked until a guardian has consented. The verifier
// matches name and number first; only then is uniqueness checked, and
// both failures answer alike. Attempts are limited per account (in the
// store, so for every replica) and per client address.
func (s *Service) SubmitRealName(ctx context.Context, userID int, in RealNameInput, now time.Time) (*ent.User, error) {
	var v check.Checker
	checkRealName(&v, "input.realName", in.RealName)
	n := parseID(&v, "input.idNumber", in.IDNumber, now)
	v.OptionalText("input.idPhotoRef", in.IDPhotoRef, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.AddressLimiter != nil {
		if ok, wait := s.AddressLimiter.Allow(ctx, reqctx.From(ctx).ClientIP, now); !ok {
			return nil, fault.Limited("too many real-name verifications from this address", int(wait/time.Second)+1)
		}
	}
	var out *ent.User
	passed := false
	err := store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		var err error
		out, passed, err = s.verify(ctx, tx.Client(), userID, in.RealName, n, in.IDPhotoRef, now)
		return err
	})
	switch {
	case ent.IsConstraintError(err):
		// Another account verified the same number at the same moment.
		return nil, errNotVerified
	case err != nil:
		return nil, err
	case !passed:
		// A rejected attempt is committed (it counts against the limit)
		// and then refused.
		return nil, errNotVerified
	}
	// Read again outside the transaction, so that edges resolve.
	return s.Client.User.Get(ctx, out.ID)
}

// verify runs the check and records its outcome, inside the caller's tx.
// A verification that did not pass is recorded, and passed is false.
func (s *Service) verify(ctx context.Context, c *ent.Client, userID int, realName string, n idcard.Number, photo *string, now time.Time) (out *ent.User, passed bool, err error) {
	// Attempts made at the same moment count one after the other.
	if err := lockUser(classification.AsSystem(ctx), c, userID); err != nil {
		return nil, false, err
	}
	u, err := c.User.Get(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	if u.RealNameVerifiedAt != nil {
		return nil, false, ErrAlreadyVerified
	}
	birth := n.BirthDate.Format(classification.BirthDateLayout)
	if err := privacy.AllowedFor(ctx, c, userID, birth, classification.RealName, classification.GovernmentID, classification.BirthDate); err != nil {
		return nil, false, err
	}
	attempts, err := c.RealNameVerification.Query().
		Where(realnameverification.UserID(userID), realnameverification.VerifiedAtGT(now.Add(-24*time.Hour))).
		Count(ctx)
	if err != nil {
		return nil, false, err
	}
	if attempts >= MaxRealNameAttempts {
		return nil, false, fault.Limited("at most 5 real-name verifications a day", 3600)
	}
	ok, err := s.Verifier.Verify(ctx, realName, n.Value)
	if err != nil {
		return nil, false, err
	}
	index, err := crypt.BlindIndex(IDNumberIndexDomain, n.Value)
	if err != nil {
		return nil, false, err
	}
	if ok {
		// SECURITY: only after the verifier matched name and number.
		taken, err := c.User.Query().Where(user.IDNumberIndex(index), user.IDNEQ(userID)).Exist(classification.AsSystem(ctx))
		if err != nil {
			return nil, false, err
		}
		ok = !taken
	}
	result := realnameverification.ResultPASSED
	if !ok {
		result = realnameverification.ResultREJECTED
	}
	if err := c.RealNameVerification.Create().
		SetUserID(userID).SetRealName(realName).SetIDNumber(n.Value).SetIDPhotoRef(deref(photo)).
		SetResult(result).SetVerifier(s.Verifier.Name()).SetVerifiedAt(now).
		Exec(ctx); err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, nil
	}
	out, err = c.User.UpdateOne(u).
		SetRealName(realName).
		SetIDNumber(n.Value).
		SetIDNumberIndex(index).
		SetBirthDate(birth).
		SetRealNameVerifiedAt(now).
		Save(ctx)
	return out, err == nil, err
}

// IDNumberIndexDomain separates the blind index of ID numbers from others.
const IDNumberIndexDomain = "users.id_number"

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// LinkChildInput is the GraphQL input LinkChildInput.
type LinkChildInput struct {
	ChildPhone string `json:"childPhone"`
}

// MaxLinkRequests bounds the guardianship requests one adult may make in a
// day, so that nobody can flood others with requests.
const MaxLinkRequests = 5

// RequestGuardianship asks the account with the given phone to accept
// guardianID as its guardian, and returns the pairing code to give the
// ward, who enters it to accept. The guardian must be a real-name
// verified adult and not staff. Whatever the phone, the answer is the
// same, and every call counts against the daily limit: a request is
// recorded, for that account only to see and answer, when the account can
// take a guardian (an active user, not staff, not a verified adult,
// without a guardian, not already asked by guardianID). The requester
// learns nothing of the account until it accepts.
//
// SECURITY: the guardian never gives the ward an identity: the ward's
// real name comes from the ward's own verification (SubmitRealName).
func (s *Service) RequestGuardianship(ctx context.Context, guardianID int, in LinkChildInput, now time.Time) (code string, err error) {
	var v check.Checker
	phone := v.Phone("input.childPhone", in.ChildPhone)
	if err := v.Err(); err != nil {
		return "", err
	}
	code, err = pairingCode()
	if err != nil {
		return "", err
	}
	codeIndex, err := crypt.BlindIndex(pairingDomain, code)
	if err != nil {
		return "", err
	}
	return code, store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		c := tx.Client()
		// SECURITY: read as the system: these rows decide who may act, and
		// what is found is never shown to the requester.
		sys := classification.AsSystem(ctx)
		if err := lockUser(sys, c, guardianID); err != nil {
			return err
		}
		guardian, err := c.User.Get(sys, guardianID)
		if err != nil {
			return err
		}
		if err := mayBeGuardian(guardian, now); err != nil {
			return err
		}
		// Every call counts, whatever came of it, so that the limit tells
		// nothing either; the guardian's row is locked, so calls at the
		// same moment count one after the other.
		recent, err := c.AuditEvent.Query().
			Where(auditevent.ActorID(guardianID), auditevent.Action(audit.GuardianRequested), auditevent.AtGT(now.Add(-24*time.Hour))).
			Count(sys)
		if err != nil {
			return err
		}
		if recent >= MaxLinkRequests {
			return fault.Limited("at most 5 guardianship requests a day", 3600)
		}
		entry := audit.Entry{ActorID: guardianID, Action: audit.GuardianRequested, Detail: "asked to be a guardian"}
		child, err := c.User.Query().Where(user.Phone(phone)).Only(sys)
		switch {
		case ent.IsNotFound(err):
			return audit.Append(ctx, c, now, entry)
		case err != nil:
			return err
		}
		asked, err := c.GuardianLink.Query().
			Where(guardianlink.ChildID(child.ID), guardianlink.RequestedBy(guardianID), guardianlink.StatusEQ(guardianlink.StatusPENDING)).
			Exist(sys)
		if err != nil {
			return err
		}
		if asked || child.ID == guardianID || mayTakeGuardian(child, now) != nil {
			return audit.Append(ctx, c, now, entry)
		}
		masked, _ := classification.MaskPhone(guardian.Phone)
		if err := c.GuardianLink.Create().
			SetChildID(child.ID).SetRequestedBy(guardianID).
			SetRequesterNickname(guardian.Nickname).SetRequesterPhone(masked).
			SetCodeIndex(codeIndex).SetRequestedAt(now).Exec(sys); err != nil {
			return err
		}
		entry.SubjectID = child.ID
		return audit.Append(ctx, c, now, entry)
	})
}

// pairingDomain separates the blind index of pairing codes from others.
const pairingDomain = "guardian_links.code"

// pairingCode returns a random 8-digit code.
func pairingCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// MaxPairingAttempts is how many wrong pairing codes decline a request.
const MaxPairingAttempts = 3

// lockUser holds the row of user id until the transaction of c ends, so
// that checks and writes about them made at the same moment run one
// after the other. SQLite, with one writer at a time, needs no lock.
func lockUser(ctx context.Context, c *ent.Client, id int) error {
	if c.Driver().Dialect() != dialect.Postgres {
		return nil
	}
	_, err := c.User.Query().Where(user.ID(id)).ForUpdate().IDs(ctx)
	return err
}

// mayBeGuardian says whether u may be someone's guardian on day now: a
// real-name verified adult, active, not staff.
func mayBeGuardian(u *ent.User, now time.Time) error {
	switch {
	case u.Status != user.StatusACTIVE || classification.RoleOf(u.Role).IsStaff():
		return fault.New(fault.Forbidden, "staff accounts cannot be guardians")
	case u.RealNameVerifiedAt == nil || u.BirthDate == nil:
		return fault.New(fault.RealNameRequired, "a guardian must be real-name verified first (submitRealName)")
	case classification.AgeGroupOf(*u.BirthDate, now) != classification.AgeAdult:
		return fault.New(fault.Forbidden, "a guardian must be an adult")
	}
	return nil
}

// mayTakeGuardian says whether u may accept a guardian on day now: an
// active user, not staff, not known to be an adult, without a guardian.
func mayTakeGuardian(u *ent.User, now time.Time) error {
	switch {
	case u.Status != user.StatusACTIVE || classification.RoleOf(u.Role).IsStaff():
		return fault.New(fault.Forbidden, "staff accounts cannot have a guardian")
	case u.BirthDate != nil && classification.AgeGroupOf(*u.BirthDate, now) == classification.AgeAdult:
		return fault.New(fault.Forbidden, "adults have no guardian")
	case u.GuardianID != nil:
		return fault.New(fault.Forbidden, "this account already has a guardian; end that guardianship first")
	}
	return nil
}

// errNoRequest answers for a request that is not the caller's to answer
// or end, whether or not it exists.
var errNoRequest = fault.New(fault.Forbidden, "no such guardianship of yours")

// guardianConsents are what a guardian consents to by asking: the ward's
// account, and the real-name verification that tells the ward's age.
var guardianConsents = []classification.ConsentPurpose{classification.ConsentAccount, classification.ConsentRealName}

// AnswerGuardianship records the answer of wardID, from their own session,
// to a pending request. Accepting takes the pairing code the requester
// was given; it links the requester as guardian and records the
// requester's consent to the account and real-name verification (which
// the request was); both sides then see the link. The ward's row is
// locked, so two answers at the same moment cannot both link.
func (s *Service) AnswerGuardianship(ctx context.Context, wardID, linkID int, accept bool, code *string, now time.Time) (*ent.GuardianLink, error) {
	if accept && (code == nil || *code == "") {
		return nil, fault.Invalid("code", "accepting needs the pairing code the one who asked was given")
	}
	var out *ent.GuardianLink
	var wrongCode error
	err := store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		c := tx.Client()
		sys := classification.AsSystem(ctx)
		if err := lockUser(sys, c, wardID); err != nil {
			return err
		}
		link, err := c.GuardianLink.Get(sys, linkID)
		if err != nil || link.ChildID != wardID || link.Status != guardianlink.StatusPENDING {
			return errNoRequest
		}
		update := c.GuardianLink.UpdateOne(link).SetAnsweredAt(now)
		detail := "declined"
		if accept {
			given, err := crypt.BlindIndex(pairingDomain, strings.TrimSpace(*code))
			if err != nil {
				return err
			}
			if subtle.ConstantTimeCompare([]byte(given), []byte(link.CodeIndex)) != 1 {
				// The wrong code is counted (and committed); the last one
				// declines the request.
				wrongCode = fault.Invalid("code", "this is not the code the one who asked was given")
				if link.CodeAttempts+1 < MaxPairingAttempts {
					return c.GuardianLink.UpdateOne(link).AddCodeAttempts(1).Exec(sys)
				}
				update.AddCodeAttempts(1).SetStatus(guardianlink.StatusDECLINED)
				accept, detail = false, "declined after wrong pairing codes"
			}
		}
		if accept {
			ward, err := c.User.Get(sys, wardID)
			if err != nil {
				return err
			}
			if err := mayTakeGuardian(ward, now); err != nil {
				return err
			}
			guardian, err := c.User.Get(sys, link.RequestedBy)
			if err != nil {
				return err
			}
			if mayBeGuardian(guardian, now) != nil {
				return errNoRequest
			}
			if err := c.User.UpdateOneID(wardID).SetGuardianID(guardian.ID).Exec(sys); err != nil {
				return err
			}
			for _, p := range guardianConsents {
				if _, err := ledger.Grant(ctx, c, wardID, ledger.Scope{Purpose: p}, guardian.ID, now); err != nil {
					return err
				}
			}
			update.SetStatus(guardianlink.StatusACTIVE).SetGuardianID(guardian.ID)
			detail = "accepted"
		} else if wrongCode == nil {
			update.SetStatus(guardianlink.StatusDECLINED)
		}
		if out, err = update.Save(sys); err != nil {
			return err
		}
		return audit.Append(ctx, c, now, audit.Entry{ActorID: wardID, SubjectID: wardID,
			Action: audit.GuardianAnswered, Detail: detail})
	})
	if err == nil && wrongCode != nil {
		return nil, wrongCode
	}
	return afterTx(ctx, s.Client, out, err)
}

// afterTx returns link read again outside the transaction that wrote it,
// so that its edges resolve after the commit.
func afterTx(ctx context.Context, c *ent.Client, link *ent.GuardianLink, err error) (*ent.GuardianLink, error) {
	if err != nil {
		return nil, err
	}
	return c.GuardianLink.Get(ctx, link.ID)
}

// EndGuardianship ends an active link, on the request of either side:
// the ward has no guardian any more, and every consent the guardian gave
// for the ward is withdrawn.
func (s *Service) EndGuardianship(ctx context.Context, actorID, linkID int, now time.Time) (*ent.GuardianLink, error) {
	var out *ent.GuardianLink
	err := store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		sys := classification.AsSystem(ctx)
		link, err := tx.GuardianLink.Get(sys, linkID)
		if err != nil || link.Status != guardianlink.StatusACTIVE || link.GuardianID == nil ||
			actorID != link.ChildID && actorID != *link.GuardianID {
			return errNoRequest
		}
		reason := guardianlink.EndReasonBY_WARD
		if actorID == *link.GuardianID {
			reason = guardianlink.EndReasonBY_GUARDIAN
		}
		out, err = EndLink(ctx, tx.Client(), link, actorID, reason, now)
		return err
	})
	return afterTx(ctx, s.Client, out, err)
}

// EndLink ends link for reason, inside the caller's transaction: the ward
// is unlinked, the guardian's consents for them are withdrawn, and the
// end is audited. actorID is who ended it (0: the system).
func EndLink(ctx context.Context, c *ent.Client, link *ent.GuardianLink, actorID int, reason guardianlink.EndReason, now time.Time) (*ent.GuardianLink, error) {
	sys := classification.AsSystem(ctx)
	guardianID := *link.GuardianID
	if _, err := c.User.Update().Where(user.ID(link.ChildID), user.GuardianID(guardianID)).ClearGuardianID().Save(sys); err != nil {
		return nil, err
	}
	withdrawn, err := c.Consent.Update().
		Where(consent.UserID(link.ChildID), consent.GrantedBy(guardianID), consent.WithdrawnAtIsNil()).
		SetWithdrawnAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	out, err := c.GuardianLink.UpdateOne(link).
		SetStatus(guardianlink.StatusENDED).SetEndReason(reason).SetEndedAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	return out, audit.Append(ctx, c, now, audit.Entry{ActorID: actorID, SubjectID: link.ChildID,
		Action: audit.GuardianEnded, Detail: fmt.Sprintf("%s; %d consents given by the guardian withdrawn", reason, withdrawn)})
}

// VerifyFaceInput is the GraphQL input VerifyFaceInput.
type VerifyFaceInput struct {
	Image string `json:"image"`
}

// MaxFaceImage bounds a face image, decoded.
const MaxFaceImage = 2 << 20

// VerifyFace checks userID's consent for face data first, then sends the
// image to the provider and records only the outcome. The image lives in
// memory for the length of the call and is never stored or logged.
func (s *Service) VerifyFace(ctx context.Context, userID int, in VerifyFaceInput, now time.Time) (*ent.FaceVerification, error) {
	image, err := base64.StdEncoding.DecodeString(strings.TrimSpace(in.Image))
	switch {
	case err != nil:
		return nil, fault.Invalid("input.image", "must be base64")
	case len(image) == 0:
		return nil, fault.Invalid("input.image", "must not be empty")
	case len(image) > MaxFaceImage:
		return nil, fault.Invalid("input.image", "must be at most 2 MiB")
	case !isJPEG(image) && !isPNG(image):
		return nil, fault.Invalid("input.image", "must be a JPEG or PNG image")
	}
	// Sending the image is itself processing face data: the consent is
	// checked before, not only when the outcome is written.
	if err := privacy.AllowedFor(ctx, s.Client, userID, "", classification.Face); err != nil {
		return nil, err
	}
	passed, err := s.Face.Verify(ctx, userID, image)
	clear(image)
	if err != nil {
		return nil, err
	}
	result := faceverification.ResultFAILED
	if passed {
		result = faceverification.ResultPASSED
	}
	return s.Client.FaceVerification.Create().
		SetUserID(userID).SetResult(result).SetProvider(s.Face.Name()).SetVerifiedAt(now).
		Save(ctx)
}

func isJPEG(b []byte) bool { return len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }
func isPNG(b []byte) bool  { return len(b) > 8 && string(b[1:4]) == "PNG" }

// ActingFor returns whom viewer v acts on: themself, or with forUser, a
// ward over whom v holds power as their guardian, with v as the guardian.
// The power comes from classification.GuardianPowers, by the ward's age
// today (POLICY.md P6).
func ActingFor(ctx context.Context, c *ent.Client, v classification.Viewer, forUser *int, power classification.Power, now time.Time) (subject, guardian int, err error) {
	if forUser == nil || *forUser == v.UserID {
		return v.UserID, 0, nil
	}
	// SECURITY: read as the system, so that the answer below is the one
	// rule's; only a guardian holding the power may act, and anyone else
	// is told the same whether or not the user exists.
	ward, err := c.User.Query().Where(user.ID(*forUser)).Only(classification.AsSystem(ctx))
	if err != nil || !classification.GuardianPowers(v, privacy.PersonOf(ward, now)).Has(power) {
		return 0, 0, fault.New(fault.Forbidden, "you may do this only for a ward you are the guardian of, while their age gives you the power to")
	}
	return ward.ID, v.UserID, nil
}
