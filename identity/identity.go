// Package identity verifies who a user is: real name and ID number
// (POLICY.md P1.3), a guardian linking a child under 14 (P6.4), and live
// face checks whose images are never kept (P1.3a).
package identity

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
	"unicode"

	"veil/check"
	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ent/faceverification"
	"veil/ent/realnameverification"
	"veil/ent/user"
	"veil/fault"
	"veil/idcard"
	"veil/ledger"
	"veil/privacy"
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

// SubmitRealName verifies userID's own name and ID number and, if they
// pass, records them on the account. A child's number is refused until a
// guardian has consented (the collection hook says so).
func (s *Service) SubmitRealName(ctx context.Context, userID int, in RealNameInput, now time.Time) (*ent.User, error) {
	var v check.Checker
	checkRealName(&v, "input.realName", in.RealName)
	n := parseID(&v, "input.idNumber", in.IDNumber, now)
	v.OptionalText("input.idPhotoRef", in.IDPhotoRef, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.User
	err := store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		var err error
		out, err = s.verify(ctx, tx.Client(), userID, in.RealName, n, in.IDPhotoRef, now)
		return err
	})
	return out, err
}

// verify runs the check and records its outcome, inside the caller's tx.
func (s *Service) verify(ctx context.Context, c *ent.Client, userID int, realName string, n idcard.Number, photo *string, now time.Time) (*ent.User, error) {
	u, err := c.User.Get(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.RealNameVerifiedAt != nil {
		return nil, ErrAlreadyVerified
	}
	index, err := crypt.BlindIndex(IDNumberIndexDomain, n.Value)
	if err != nil {
		return nil, err
	}
	taken, err := c.User.Query().Where(user.IDNumberIndex(index), user.IDNEQ(userID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		// SECURITY: the message does not say whose account it is.
		return nil, fault.Invalid("input.idNumber", "this ID number is verified on another account")
	}
	ok, err := s.Verifier.Verify(ctx, realName, n.Value)
	if err != nil {
		return nil, err
	}
	result := realnameverification.ResultPASSED
	if !ok {
		result = realnameverification.ResultREJECTED
	}
	if err := c.RealNameVerification.Create().
		SetUserID(userID).SetRealName(realName).SetIDNumber(n.Value).SetIDPhotoRef(deref(photo)).
		SetResult(result).SetVerifier(s.Verifier.Name()).SetVerifiedAt(now).
		Exec(ctx); err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault.Invalid("input", "the name and ID number do not match the official record")
	}
	return c.User.UpdateOne(u).
		SetRealName(realName).
		SetIDNumber(n.Value).
		SetIDNumberIndex(index).
		SetBirthDate(n.BirthDate.Format(classification.BirthDateLayout)).
		SetRealNameVerifiedAt(now).
		Save(ctx)
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
	RealName   string `json:"realName"`
	IDNumber   string `json:"idNumber"`
}

// LinkChild makes guardianID the guardian of the child account with the
// given phone, records the guardian's consent for it (account and real
// name), and verifies the child's real name, in one transaction.
func (s *Service) LinkChild(ctx context.Context, guardianID int, in LinkChildInput, now time.Time) (*ent.User, error) {
	var v check.Checker
	phone := v.Phone("input.childPhone", in.ChildPhone)
	checkRealName(&v, "input.realName", in.RealName)
	n := parseID(&v, "input.idNumber", in.IDNumber, now)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if classification.AgeGroupOf(n.BirthDate.Format(classification.BirthDateLayout), now) != classification.AgeChild {
		return nil, fault.Invalid("input.idNumber", "linkChild is for children under 14")
	}
	guardian, err := s.Client.User.Get(ctx, guardianID)
	if err != nil {
		return nil, err
	}
	if guardian.RealNameVerifiedAt == nil || guardian.BirthDate == nil {
		return nil, fault.New(fault.RealNameRequired, "a guardian must be real-name verified first (submitRealName)")
	}
	if classification.AgeGroupOf(*guardian.BirthDate, now) != classification.AgeAdult {
		return nil, fault.New(fault.Forbidden, "a guardian must be an adult")
	}
	var out *ent.User
	err = store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		c := tx.Client()
		child, err := c.User.Query().Where(user.Phone(phone)).Only(ctx)
		if ent.IsNotFound(err) {
			return fault.Invalid("input.childPhone", "no account uses this phone; the child must sign in once first")
		}
		if err != nil {
			return err
		}
		if child.ID == guardianID {
			return fault.Invalid("input.childPhone", "a guardian cannot link their own account")
		}
		if child.GuardianID != nil && *child.GuardianID != guardianID {
			return fault.Invalid("input.childPhone", "this account already has another guardian")
		}
		if child.GuardianID == nil {
			if err := c.User.UpdateOne(child).SetGuardianID(guardianID).Exec(ctx); err != nil {
				return err
			}
		}
		for _, p := range []classification.ConsentPurpose{classification.ConsentAccount, classification.ConsentRealName} {
			if _, err := ledger.Grant(ctx, c, child.ID, ledger.Scope{Purpose: p}, guardianID, now); err != nil {
				return err
			}
		}
		out, err = s.verify(ctx, c, child.ID, in.RealName, n, nil, now)
		return err
	})
	return out, err
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
	if err := privacy.Allowed(ctx, s.Client, userID, classification.Face); err != nil {
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
