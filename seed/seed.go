// Package seed builds data the same way for the demo command and for
// tests. Every helper is idempotent: it finds what exists (by a natural
// key) before it creates, so seeding twice duplicates nothing.
package seed

import (
	"context"
	"fmt"
	"time"

	"veil/account"
	"veil/audit"
	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/guardianlink"
	"veil/ent/listing"
	"veil/ent/order"
	"veil/ent/session"
	"veil/ent/sharingrecord"
	"veil/ent/user"
	"veil/idcard"
	"veil/identity"
	"veil/store"
	"veil/trade"
)

// PolicyVersion is the privacy-policy version seeded consents refer to.
const PolicyVersion = "2021-08-20"

// Person describes a user to seed.
type Person struct {
	Phone    string
	Nickname string
	// RealName and Birth, when set, make the user real-name verified with
	// a valid ID number for that birth date.
	RealName string
	Birth    time.Time
	Role     classification.Role
	// GuardianID links a child to their guardian.
	GuardianID int
	// Seq makes ID numbers of people born the same day differ.
	Seq int
}

// EnsureUser returns the user with p.Phone, creating it from p if needed.
func EnsureUser(ctx context.Context, c *ent.Client, p Person, now time.Time) (*ent.User, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	u, err := c.User.Query().Where(user.Phone(p.Phone)).Only(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return u, err
	}
	role := p.Role
	if role == "" {
		role = classification.RoleUser
	}
	// Encrypted fields are written in a transaction (store.SealRows).
	err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
		create := tx.User.Create().
			SetPhone(p.Phone).
			SetNickname(p.Nickname).
			SetAvatarURL(fmt.Sprintf("https://img.example.com/avatar/%s.png", p.Phone[7:])).
			SetRole(user.Role(role)).
			SetCreatedAt(now)
		if p.RealName != "" {
			id := idcard.Make("110105", p.Birth, 100+p.Seq)
			index, err := crypt.BlindIndex(identity.IDNumberIndexDomain, id)
			if err != nil {
				return err
			}
			create.SetRealName(p.RealName).
				SetIDNumber(id).SetIDNumberIndex(index).
				SetBirthDate(p.Birth.Format(classification.BirthDateLayout)).
				SetRealNameVerifiedAt(now)
		}
		if p.GuardianID != 0 {
			create.SetGuardianID(p.GuardianID)
		}
		u, err = create.Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if u = u.Unwrap(); p.GuardianID == 0 {
		return u, nil
	}
	guardian, err := c.User.Get(ctx, p.GuardianID)
	if err != nil {
		return nil, err
	}
	_, err = EnsureGuardianLink(ctx, c, guardian, u, guardianlink.StatusACTIVE, now)
	return u, err
}

// DemoPairingCode is the pairing code of the guardianship requests seeded
// (the one waiting for the teen persona): real requests get a random one.
const DemoPairingCode = "24681357"

// EnsureGuardianLink returns the guardianship from guardian to ward,
// creating it with status: a PENDING request, an ACTIVE link, or one that
// ENDED when the ward came of age (its ward then has no guardian).
func EnsureGuardianLink(ctx context.Context, c *ent.Client, guardian, ward *ent.User, status guardianlink.Status, now time.Time) (*ent.GuardianLink, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	l, err := c.GuardianLink.Query().Where(guardianlink.ChildID(ward.ID), guardianlink.RequestedBy(guardian.ID)).First(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return l, err
	}
	masked, _ := classification.MaskPhone(guardian.Phone)
	index, err := crypt.BlindIndex("guardian_links.code", DemoPairingCode)
	if err != nil {
		return nil, err
	}
	create := c.GuardianLink.Create().SetChildID(ward.ID).SetRequestedBy(guardian.ID).
		SetRequesterNickname(guardian.Nickname).SetRequesterPhone(masked).SetCodeIndex(index).SetStatus(status).SetRequestedAt(now)
	switch status {
	case guardianlink.StatusACTIVE:
		create.SetGuardianID(guardian.ID).SetAnsweredAt(now)
	case guardianlink.StatusENDED:
		create.SetGuardianID(guardian.ID).SetAnsweredAt(now).
			SetEndReason(guardianlink.EndReasonWARD_CAME_OF_AGE).SetEndedAt(now)
	}
	return create.Save(ctx)
}

// EnsureListing returns the seller's listing titled title, creating it
// to ship from the mainland.
func EnsureListing(ctx context.Context, c *ent.Client, sellerID int, title string, priceFen int64, now time.Time) (*ent.Listing, error) {
	return EnsureListingFrom(ctx, c, sellerID, title, priceFen, classification.Mainland, now)
}

// EnsureListingFrom is EnsureListing for goods shipping from region.
func EnsureListingFrom(ctx context.Context, c *ent.Client, sellerID int, title string, priceFen int64, region classification.Region, now time.Time) (*ent.Listing, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	l, err := c.Listing.Query().Where(listing.SellerID(sellerID), listing.Title(title)).First(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return l, err
	}
	return c.Listing.Create().SetSellerID(sellerID).SetTitle(title).SetPriceFen(priceFen).
		SetShipsFrom(string(region)).SetCreatedAt(now).Save(ctx)
}

// EnsureOrder returns the order numbered orderNo, creating it as a
// purchase of l by buyer.
func EnsureOrder(ctx context.Context, c *ent.Client, orderNo string, buyer *ent.User, l *ent.Listing, status order.Status, now time.Time) (*ent.Order, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	o, err := c.Order.Query().Where(order.OrderNo(orderNo)).Only(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return o, err
	}
	create := c.Order.Create().
		SetOrderNo(orderNo).
		SetAmountFen(l.PriceFen).
		SetStatus(status).
		SetRecipientPhone(buyer.Phone).
		SetBuyerID(buyer.ID).
		SetSellerID(l.SellerID).
		SetListingID(l.ID).
		SetCreatedAt(now)
	if status == order.StatusSHIPPED || status == order.StatusCOMPLETED {
		create.SetCarrier("SF Express").SetShippedAt(now)
	}
	if status == order.StatusCOMPLETED {
		create.SetCompletedAt(now)
	}
	return create.Save(ctx)
}

// EnsureConsent grants purpose to userID under PolicyVersion unless an
// active grant exists. grantedBy is the consenting guardian, or 0.
func EnsureConsent(ctx context.Context, c *ent.Client, userID int, purpose classification.ConsentPurpose, grantedBy int, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	by := consent.GrantedByIsNil()
	if grantedBy != 0 {
		by = consent.GrantedBy(grantedBy)
	}
	exists, err := c.Consent.Query().
		Where(consent.UserID(userID), consent.PurposeEQ(consent.Purpose(purpose)), consent.WithdrawnAtIsNil(), by).
		Exist(ctx)
	if err != nil || exists {
		return err
	}
	create := c.Consent.Create().
		SetUserID(userID).
		SetPurpose(consent.Purpose(purpose)).
		SetPolicyVersion(PolicyVersion).
		SetGrantedAt(now)
	actor := userID
	if grantedBy != 0 {
		create.SetGrantedBy(grantedBy)
		actor = grantedBy
	}
	if err := create.Exec(ctx); err != nil {
		return err
	}
	return audit.Append(ctx, c, now, audit.Entry{ActorID: actor, SubjectID: userID,
		Action: audit.ConsentGranted, Detail: string(purpose) + " under policy " + PolicyVersion})
}

// EnsureSharingConsent grants THIRD_PARTY_SHARING with recipient to
// userID unless active.
func EnsureSharingConsent(ctx context.Context, c *ent.Client, userID int, recipient string, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	exists, err := c.Consent.Query().
		Where(consent.UserID(userID), consent.PurposeEQ(consent.PurposeTHIRD_PARTY_SHARING), consent.Recipient(recipient), consent.WithdrawnAtIsNil()).
		Exist(ctx)
	if err != nil || exists {
		return err
	}
	return c.Consent.Create().SetUserID(userID).SetPurpose(consent.PurposeTHIRD_PARTY_SHARING).
		SetRecipient(recipient).SetPolicyVersion(PolicyVersion).SetGrantedAt(now).Exec(ctx)
}

// EnsureWithdrawnConsent records a grant of purpose to userID that was
// withdrawn a day later, unless userID has a withdrawn one.
func EnsureWithdrawnConsent(ctx context.Context, c *ent.Client, userID int, purpose classification.ConsentPurpose, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	exists, err := c.Consent.Query().
		Where(consent.UserID(userID), consent.PurposeEQ(consent.Purpose(purpose)), consent.WithdrawnAtNotNil()).
		Exist(ctx)
	if err != nil || exists {
		return err
	}
	return c.Consent.Create().SetUserID(userID).SetPurpose(consent.Purpose(purpose)).
		SetPolicyVersion(PolicyVersion).SetGrantedAt(now.AddDate(0, 0, -2)).SetWithdrawnAt(now.AddDate(0, 0, -1)).
		Exec(ctx)
}

// EnsureRevokedSession gives userID a signed-out session, unless it has one.
func EnsureRevokedSession(ctx context.Context, c *ent.Client, accounts *account.Service, userID int) error {
	exists, err := c.Session.Query().Where(session.UserID(userID), session.RevokedAtNotNil()).Exist(ctx)
	if err != nil || exists {
		return err
	}
	if _, err := accounts.IssueSession(ctx, userID); err != nil {
		return err
	}
	s, err := c.Session.Query().Where(session.UserID(userID)).Order(ent.Desc(session.FieldID)).First(ctx)
	if err != nil {
		return err
	}
	return accounts.Revoke(ctx, s.ID)
}

// YearsAgo returns the calendar date years before now, minus days days.
func YearsAgo(now time.Time, years, days int) time.Time {
	y, m, d := now.Date()
	return time.Date(y-years, m, d-days, 0, 0, 0, 0, time.UTC)
}

// EnsureSharing records that paying order o shared the buyer's recipient
// phone and the transaction with the seller, unless already recorded.
func EnsureSharing(ctx context.Context, c *ent.Client, o *ent.Order, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	exists, err := c.SharingRecord.Query().Where(sharingrecord.OrderID(o.ID)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	return trade.RecordSharing(ctx, c, o, now)
}
