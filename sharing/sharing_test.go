package sharing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"veil/classification"
	"veil/ent"
	"veil/ent/sharingrecord"
	"veil/fault"
	"veil/ledger"
	"veil/seed"
	"veil/sharing"
	"veil/veiltest"
)

// subject is one kind of person information is disclosed about, with the
// consents they hold.
type subject struct {
	name string
	user *ent.User
	// minor: only a guardian's consent counts for an optional purpose.
	minor bool
	// sharing and crossBorder: whether a consent that counts is held.
	sharing, crossBorder bool
}

// TestEveryDisclosureFollowsItsRecipientsDeclaration walks every declared
// recipient, in every region it may be in, for subjects with and without
// the consents that count, and checks each disclosure against the rules
// of POLICY.md P3.1 and P4.2 as the declaration states them: a consent
// basis needs THIRD_PARTY_SHARING naming the recipient; a region outside
// the mainland needs CROSS_BORDER unless the trade itself crosses the
// border; a refused disclosure records nothing, an allowed one records
// exactly one entry with its region.
func TestEveryDisclosureFollowsItsRecipientsDeclaration(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		now := env.Clock
		if err := seed.EnsureCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		mk := func(p seed.Person) *ent.User {
			u, err := seed.EnsureUser(ctx, c, p, now)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		grant := func(u *ent.User, p classification.ConsentPurpose, recipient string, by int) {
			if _, err := ledger.Grant(ctx, c, u.ID, ledger.Scope{Purpose: p, Recipient: recipient}, by, now); err != nil {
				t.Fatal(err)
			}
		}
		grantAll := func(u *ent.User, by int) {
			for _, r := range sharing.Recipients {
				grant(u, classification.ConsentThirdPartySharing, r.Name, by)
			}
			grant(u, classification.ConsentCrossBorder, "", by)
		}
		guardian := mk(seed.Person{Phone: "13200000001", Nickname: "guardian", RealName: "甲", Birth: seed.YearsAgo(now, 40, 0), Seq: 1})
		none := mk(seed.Person{Phone: "13200000002", Nickname: "none", RealName: "乙", Birth: seed.YearsAgo(now, 30, 0), Seq: 2})
		all := mk(seed.Person{Phone: "13200000003", Nickname: "all", RealName: "丙", Birth: seed.YearsAgo(now, 30, 0), Seq: 3})
		grantAll(all, 0)
		// A sharing consent names one recipient: a grant to another
		// party does not count for the declared ones.
		elsewhere := mk(seed.Person{Phone: "13200000004", Nickname: "elsewhere", RealName: "丁", Birth: seed.YearsAgo(now, 30, 0), Seq: 4})
		grant(elsewhere, classification.ConsentThirdPartySharing, "an undeclared party", 0)
		// A minor's own consents do not count for sharing or transfers
		// abroad (the basic service needs neither); their guardian's do.
		teenOwn := mk(seed.Person{Phone: "13200000005", Nickname: "teen own", RealName: "戊", Birth: seed.YearsAgo(now, 16, 0), Seq: 5, GuardianID: guardian.ID})
		grant(teenOwn, classification.ConsentAccount, "", guardian.ID)
		grantAll(teenOwn, 0)
		child := mk(seed.Person{Phone: "13200000006", Nickname: "child", RealName: "己", Birth: seed.YearsAgo(now, 10, 0), Seq: 6, GuardianID: guardian.ID})
		grant(child, classification.ConsentAccount, "", guardian.ID)
		grantAll(child, guardian.ID)
		subjects := []subject{
			{name: "adult without consents", user: none},
			{name: "adult with every consent", user: all, sharing: true, crossBorder: true},
			{name: "adult consenting to another party", user: elsewhere},
			{name: "minor with only their own consents", user: teenOwn, minor: true},
			{name: "child with the guardian's consents", user: child, minor: true, sharing: true, crossBorder: true},
		}
		seller := mk(seed.Person{Phone: "13200000007", Nickname: "seller"})

		checked := map[string]bool{}
		for _, r := range sharing.Recipients {
			regions := []classification.Region{r.Region}
			if r.Region == "" {
				regions = []classification.Region{classification.Mainland, "JP"}
			}
			for _, region := range regions {
				for _, own := range []bool{false, true} {
					for _, s := range subjects {
						name := fmt.Sprintf("%s in %s, own cross-border trade %v, %s", r.Name, region, own, s.name)
						var wantPurpose classification.ConsentPurpose
						switch {
						case r.Basis == classification.BasisConsent && !s.sharing:
							wantPurpose = classification.ConsentThirdPartySharing
						case !region.InMainland() && !own && !s.crossBorder:
							wantPurpose = classification.ConsentCrossBorder
						}
						before := c.SharingRecord.Query().Where(sharingrecord.UserID(s.user.ID)).CountX(ctx)
						d := sharing.Disclosure{To: r, Region: region, Subject: s.user.ID, Classes: r.Classes, OwnCrossBorderTrade: own}
						if r == sharing.Seller {
							d.Party = fmt.Sprintf("user:%d", seller.ID)
						}
						err := sharing.Disclose(ctx, c, d, now)
						after := c.SharingRecord.Query().Where(sharingrecord.UserID(s.user.ID)).CountX(ctx)
						if wantPurpose == "" {
							if err != nil || after != before+1 {
								t.Errorf("%s: want it recorded, got %v and %d new records", name, err, after-before)
								continue
							}
							last := c.SharingRecord.Query().Where(sharingrecord.UserID(s.user.ID)).Order(ent.Desc(sharingrecord.FieldID)).FirstX(ctx)
							if last.Region != string(region) || last.LegalBasis != string(r.Basis) || last.Purpose != r.Purpose {
								t.Errorf("%s: recorded %+v", name, last)
							}
							checked["allowed"] = true
							continue
						}
						wantCode := fault.ConsentRequired
						if s.minor {
							wantCode = fault.GuardianConsentRequired
						}
						var f *fault.Error
						if !errors.As(err, &f) || f.Code != wantCode || f.Purpose != string(wantPurpose) || after != before {
							t.Errorf("%s: want %s for %s and nothing recorded, got %v and %d new records", name, wantCode, wantPurpose, err, after-before)
						}
						checked[string(wantPurpose)] = true
					}
				}
			}
		}
		// Every rule was exercised by the declarations: a recipient list
		// that stops testing one (no consent-based or foreign recipient
		// left) must change this test knowingly.
		for _, rule := range []string{"allowed", string(classification.ConsentThirdPartySharing), string(classification.ConsentCrossBorder)} {
			if !checked[rule] {
				t.Errorf("no declared recipient exercises %q", rule)
			}
		}
	})
}

// TestUndeclaredDisclosuresAreRefused: a class the recipient does not
// declare, or a recipient that is not declared, is never recorded.
func TestUndeclaredDisclosuresAreRefused(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		u, err := seed.EnsureUser(ctx, c, seed.Person{Phone: "13200000011", Nickname: "u"}, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		stranger := *sharing.SFExpress
		stranger.Name = "a courier nobody declared"
		for name, d := range map[string]sharing.Disclosure{
			"an undeclared class":     {To: sharing.SFExpress, Subject: u.ID, Classes: []*classification.Class{classification.GovernmentID}},
			"an undeclared recipient": {To: &stranger, Subject: u.ID, Classes: stranger.Classes},
			"a seller without region": {To: sharing.Seller, Subject: u.ID, Classes: sharing.Seller.Classes},
		} {
			if err := sharing.Disclose(ctx, c, d, env.Clock); err == nil {
				t.Errorf("%s: disclosed", name)
			}
		}
		if n := c.SharingRecord.Query().CountX(ctx); n != 0 {
			t.Errorf("%d records of refused disclosures", n)
		}
	})
}

// TestTransfersCarryOnlyConsentingSubjects sends the affiliate's file: it
// holds the users whose consent naming the affiliate counts, each
// recorded in the ledger, and nobody else's data.
func TestTransfersCarryOnlyConsentingSubjects(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		c := env.Store.Client
		now := env.Clock
		if err := seed.EnsureCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		to := sharing.Affiliate
		mk := func(phone string, age, seq, guardian int) *ent.User {
			u, err := seed.EnsureUser(ctx, c, seed.Person{Phone: phone, Nickname: "n" + phone[7:], RealName: "甲", Birth: seed.YearsAgo(now, age, 0), Seq: seq, GuardianID: guardian}, now)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		grant := func(u *ent.User, recipient string, by int) {
			if _, err := ledger.Grant(ctx, c, u.ID, ledger.Scope{Purpose: classification.ConsentThirdPartySharing, Recipient: recipient}, by, now); err != nil {
				t.Fatal(err)
			}
		}
		// Every account accepted the policy when it signed up, but one
		// has withdrawn it since.
		account := func(u *ent.User, by int) {
			if err := seed.EnsureConsent(ctx, c, u.ID, classification.ConsentAccount, by, now); err != nil {
				t.Fatal(err)
			}
		}
		guardian := mk("13300000001", 40, 1, 0)
		consenting := mk("13300000002", 30, 2, 0)
		grant(consenting, to.Name, 0)
		unaccepted := mk("13300000008", 30, 8, 0)
		grant(unaccepted, to.Name, 0)
		staffer, err := seed.EnsureUser(ctx, c, seed.Person{Phone: "13300000009", Nickname: "staff", Role: classification.RoleSupport}, now)
		if err != nil {
			t.Fatal(err)
		}
		grant(staffer, to.Name, 0)
		other := mk("13300000003", 30, 3, 0)
		grant(other, "another party", 0)
		withdrawn := mk("13300000004", 30, 4, 0)
		grant(withdrawn, to.Name, 0)
		if _, err := ledger.Withdraw(ctx, c, withdrawn.ID, withdrawn.ID, ledger.Scope{Purpose: classification.ConsentThirdPartySharing, Recipient: to.Name}, now); err != nil {
			t.Fatal(err)
		}
		teen := mk("13300000005", 16, 5, guardian.ID)
		grant(teen, to.Name, 0)
		child := mk("13300000006", 10, 6, guardian.ID)
		grant(child, to.Name, guardian.ID)
		cancelled := mk("13300000007", 30, 7, 0)
		grant(cancelled, to.Name, 0)
		c.User.UpdateOne(cancelled).SetStatus("CANCELLED").ExecX(ctx)
		for _, u := range []*ent.User{guardian, consenting, other, withdrawn, teen, cancelled, staffer} {
			account(u, 0)
		}
		account(child, guardian.ID)

		var out bytes.Buffer
		res, err := sharing.Transfer(ctx, c, env.Store.Counter, to, &out, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.Shared != 2 || res.Refused != 2 {
			t.Errorf("shared %d, refused %d; want the adult and the child shared, the teen and the adult without the policy refused", res.Shared, res.Refused)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 || !strings.Contains(lines[0], sharing.TransferFormat) {
			t.Fatalf("the file: %s", out.String())
		}
		for _, u := range []*ent.User{consenting, child} {
			if !strings.Contains(out.String(), u.Phone) {
				t.Errorf("%s is not in the file", u.Nickname)
			}
			if n := c.SharingRecord.Query().Where(sharingrecord.UserID(u.ID), sharingrecord.Recipient(to.Name)).CountX(ctx); n != 1 {
				t.Errorf("%s: %d ledger entries", u.Nickname, n)
			}
		}
		for _, u := range []*ent.User{guardian, other, withdrawn, teen, cancelled, unaccepted, staffer} {
			if strings.Contains(out.String(), u.Phone) {
				t.Errorf("%s's phone is in the file", u.Nickname)
			}
			if n := c.SharingRecord.Query().Where(sharingrecord.UserID(u.ID)).CountX(ctx); n != 0 {
				t.Errorf("%s: %d ledger entries", u.Nickname, n)
			}
		}
		var first map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &first); err != nil {
			t.Fatal(err)
		}
		for class := range first["classes"].(map[string]any) {
			if class != classification.Contact.Name && class != classification.PublicProfile.Name && class != classification.Transaction.Name {
				t.Errorf("the file holds class %s, which the affiliate does not receive", class)
			}
		}
		if _, err := sharing.Transfer(ctx, c, env.Store.Counter, sharing.SFExpress, &out, now); err == nil {
			t.Error("a courier received a transfer file")
		}
	})
}
