// Package rights carries out the data subject's rights of POLICY.md P5,
// P6 and P10 — export, correction, deletion by category, and immediate
// account cancellation — and records each as a rights request due 15
// working days after it was made. What is exported, deleted or kept
// follows each class's declaration, not per-entity code.
package rights

import (
	"context"
	"fmt"
	"strings"
	"time"

	"veil/audit"
	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/guardianlink"
	"veil/ent/listing"
	"veil/ent/logincode"
	"veil/ent/rightsrequest"
	"veil/ent/session"
	"veil/ent/user"
	"veil/ent/webvisit"
	"veil/fault"
	"veil/store"
)

// auditActions are the audit actions of the request kinds.
var auditActions = map[rightsrequest.Kind]string{
	rightsrequest.KindEXPORT:       audit.RightsExport,
	rightsrequest.KindCORRECTION:   audit.RightsCorrection,
	rightsrequest.KindDELETION:     audit.RightsDeletion,
	rightsrequest.KindCANCELLATION: audit.RightsCancellation,
}

// record writes a completed rights request and its audit entry, in c's
// transaction when there is one.
func record(ctx context.Context, c *ent.Client, kind rightsrequest.Kind, requesterID, subjectID int, outcome string, now time.Time) error {
	if err := audit.Append(ctx, c, now, audit.Entry{ActorID: requesterID, SubjectID: subjectID,
		Action: auditActions[kind], Detail: outcome}); err != nil {
		return err
	}
	return c.RightsRequest.Create().
		SetUserID(subjectID).
		SetKind(kind).
		SetRequesterID(requesterID).
		SetCreatedAt(now).
		SetDueAt(DueDate(now, ResponseWorkingDays)).
		SetStatus(rightsrequest.StatusCOMPLETED).
		SetCompletedAt(now).
		SetOutcome(outcome).
		Exec(ctx)
}

// RecordExport records that requesterID exported subjectID's data.
func RecordExport(ctx context.Context, c *ent.Client, requesterID, subjectID int, now time.Time) error {
	return record(ctx, c, rightsrequest.KindEXPORT, requesterID, subjectID, "export document delivered", now)
}

// Category is a kind of data a user may delete on its own: the rows of
// the type whose record declaration names it (classification.Record,
// DeletedAs).
type Category string

// categoryType returns the type whose rows make up a category.
func categoryType(c Category) (string, classification.Record, bool) {
	for typ, rec := range ent.Records {
		if rec.Category == string(c) {
			return typ, rec, true
		}
	}
	return "", classification.Record{}, false
}

// KeptRecords says what of a category was not deleted, and why.
type KeptRecords struct {
	Category Category `json:"category"`
	Count    int      `json:"count"`
	Reason   string   `json:"reason"`
}

// DeletionResult is what a deletion did.
type DeletionResult struct {
	Category Category       `json:"category"`
	Deleted  int            `json:"deleted"`
	Kept     []*KeptRecords `json:"kept"`
}

// Delete erases subjectID's records of one category, or reports why the
// law keeps them, and records the request.
func Delete(ctx context.Context, c *ent.Client, requesterID, subjectID int, category Category, now time.Time) (*DeletionResult, error) {
	res := &DeletionResult{Category: category, Kept: []*KeptRecords{}}
	typ, rec, ok := categoryType(category)
	if !ok {
		return nil, fault.Invalid("category", "unknown category")
	}
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		if rec.OnCancel == classification.Keep {
			n, err := ent.CountAbout(ctx, tx.Client(), typ, subjectID)
			if err != nil {
				return err
			}
			res.Kept = append(res.Kept, &KeptRecords{Category: category, Count: n, Reason: rec.Kept})
		} else {
			n, err := ent.DeleteAbout(ctx, tx.Client(), typ, subjectID)
			if err != nil {
				return err
			}
			res.Deleted = n
		}
		return record(ctx, tx.Client(), rightsrequest.KindDELETION, requesterID, subjectID,
			fmt.Sprintf("%s: %d deleted, %d kept by law", category, res.Deleted, keptCount(res.Kept)), now)
	})
	return res, err
}

func keptCount(k []*KeptRecords) int {
	n := 0
	for _, r := range k {
		n += r.Count
	}
	return n
}

// CorrectionInput is the GraphQL input CorrectionInput: the fields a user
// corrects directly. Real name and ID number are corrected by verifying
// again with support, as they come from an official record.
type CorrectionInput struct {
	Nickname  *string `json:"nickname"`
	AvatarURL *string `json:"avatarUrl"`
}

// DefaultAvatarHosts are the image hosts avatars come from when none are
// configured (VEIL_AVATAR_HOSTS).
var DefaultAvatarHosts = []string{"img.example.com"}

// Correct applies a correction to subjectID's profile and records which
// fields changed (not their values). Nicknames are stored NFC-normalised;
// avatarHosts are the image hosts avatars may come from; empty means
// DefaultAvatarHosts.
func Correct(ctx context.Context, c *ent.Client, requesterID, subjectID int, in CorrectionInput, avatarHosts []string, now time.Time) (*ent.User, error) {
	if len(avatarHosts) == 0 {
		avatarHosts = DefaultAvatarHosts
	}
	var v check.Checker
	var changed []string
	if in.Nickname != nil {
		nick := v.DisplayName("input.nickname", *in.Nickname, 1, 32)
		in.Nickname = &nick
		changed = append(changed, "nickname")
	}
	if in.AvatarURL != nil {
		v.Text("input.avatarUrl", *in.AvatarURL, 0, 512)
		if *in.AvatarURL != "" {
			v.ImageURL("input.avatarUrl", *in.AvatarURL, avatarHosts)
		}
		changed = append(changed, "avatarUrl")
	}
	if len(changed) == 0 {
		v.Fail("input", "name at least one field to correct")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.User
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		upd := tx.User.UpdateOneID(subjectID)
		if in.Nickname != nil {
			upd.SetNickname(*in.Nickname)
		}
		if in.AvatarURL != nil {
			upd.SetAvatarURL(*in.AvatarURL)
		}
		var err error
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx.Client(), rightsrequest.KindCORRECTION, requesterID, subjectID, "corrected: "+strings.Join(changed, ", "), now)
	})
	if err != nil {
		return nil, err
	}
	// Read again outside the transaction, so that edges resolve.
	return c.User.Get(ctx, out.ID)
}

// IDNumberHold is how long the blind index of a cancelled account's ID
// number is kept when the cancellation was not the subject's own choice
// (a guardian cancelled for their ward): no other account can verify with
// that number meanwhile, so that a disputed cancellation cannot be
// followed by someone else taking the identity.
const IDNumberHold = 30 * 24 * time.Hour

// Cancel cancels subjectID's account at once and in one transaction:
// every session is revoked, login codes for the phone are dropped, the
// rows of every type declared erased on cancellation are erased, the
// profile is anonymised (so
// the phone may open a new, unrelated account), children are unlinked.
// Orders and the sharing and consent records that go with them stay, and
// from now on only a legal hold may read them (classification.Subject
// Restricted). A failure half way changes nothing.
func Cancel(ctx context.Context, c *ent.Client, requesterID, subjectID int, now time.Time) error {
	// SECURITY: erasure is not collection; nothing here needs consent.
	ctx = classification.AsSystem(ctx)
	return store.WithTx(ctx, c, func(tx *ent.Tx) error {
		u, err := tx.User.Get(ctx, subjectID)
		if err != nil {
			return err
		}
		if u.Status == user.StatusCANCELLED {
			return fault.ErrAccountCancelled
		}
		if _, err := tx.Session.Update().
			Where(session.UserID(subjectID), session.RevokedAtIsNil()).
			SetRevokedAt(now).Save(ctx); err != nil {
			return err
		}
		if _, err := tx.LoginCode.Delete().Where(logincode.Phone(u.Phone)).Exec(ctx); err != nil {
			return err
		}
		var erased []string
		for _, typ := range ent.ErasedOnCancel {
			n, err := ent.DeleteAbout(ctx, tx.Client(), typ, subjectID)
			if err != nil {
				return err
			}
			if n > 0 {
				erased = append(erased, fmt.Sprintf("%s %d", ent.Tables[typ], n))
			}
		}
		// Page views counted under the account's analytics consents are
		// about no row's subject, but they are the account's.
		analyticsConsents, err := tx.Consent.Query().Where(consent.UserID(subjectID), consent.PurposeEQ(consent.PurposeANALYTICS_COOKIES)).IDs(ctx)
		if err != nil {
			return err
		}
		if n, err := tx.WebVisit.Delete().Where(webvisit.ConsentIDIn(analyticsConsents...)).Exec(ctx); err != nil {
			return err
		} else if n > 0 {
			erased = append(erased, fmt.Sprintf("%s %d", ent.Tables["WebVisit"], n))
		}
		if _, err := tx.User.Update().Where(user.GuardianID(subjectID)).ClearGuardianID().Save(ctx); err != nil {
			return err
		}
		// Guardianships on either side end, and what the account consented
		// to as a guardian is withdrawn.
		if _, err := tx.GuardianLink.Update().
			Where(guardianlink.StatusEQ(guardianlink.StatusACTIVE), guardianlink.Or(guardianlink.ChildID(subjectID), guardianlink.GuardianID(subjectID))).
			SetStatus(guardianlink.StatusENDED).SetEndReason(guardianlink.EndReasonACCOUNT_CANCELLED).SetEndedAt(now).
			Save(ctx); err != nil {
			return err
		}
		if _, err := tx.Consent.Update().Where(consent.GrantedBy(subjectID), consent.WithdrawnAtIsNil()).SetWithdrawnAt(now).Save(ctx); err != nil {
			return err
		}
		// A cancelled account sells nothing: its listings are withdrawn
		// (orders on them stay, and can no longer be paid).
		if _, err := tx.Listing.Update().Where(listing.SellerID(subjectID), listing.WithdrawnAtIsNil()).SetWithdrawnAt(now).Save(ctx); err != nil {
			return err
		}
		erase := tx.User.UpdateOneID(subjectID).
			SetStatus(user.StatusCANCELLED).
			SetCancelledAt(now).
			SetPhone(fmt.Sprintf("cancelled:%d", subjectID)).
			SetNickname("").
			SetAvatarURL("").
			ClearRealName().ClearIDNumber().ClearBirthDate().ClearRealNameVerifiedAt().ClearGuardianID()
		if requesterID == subjectID || u.IDNumberIndex == nil {
			erase.ClearIDNumberIndex()
		} else {
			// Not the subject's own choice (a guardian's): the identity stays
			// taken while a dispute may be opened (IDNumberHold).
			erase.SetIDNumberHeldUntil(now.Add(IDNumberHold))
		}
		if err := erase.Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx.Client(), rightsrequest.KindCANCELLATION, requesterID, subjectID,
			"account cancelled; erased: "+strings.Join(erased, ", ")+"; orders kept under legal hold until 3 years after completion", now)
	})
}
