package seed

import (
	"context"
	"fmt"
	"time"

	"veil/account"
	"veil/classification"
	"veil/ent"
	"veil/ent/guardianlink"
	"veil/ent/order"
)

// Personas are the demo accounts, in the order of DESIGN.md.
// teen_consented is a 16-year-old whose guardian linked and consented,
// beside teen, who has no guardian (and a guardian's request waiting).
var Personas = []string{"adult", "teen", "teen_consented", "child", "guardian", "unverified", "support", "risk", "admin", "auditor"}

// World is what Demo seeded.
type World struct {
	// Users maps each persona to its account.
	Users map[string]*ent.User
	// Tokens maps each persona to a fresh bearer token.
	Tokens map[string]string
	// Orders are the adult's purchases from the guardian's listings.
	Orders []*ent.Order
	// Listings are the guardian's listings; the last ships from abroad.
	Listings []*ent.Listing
}

// Demo seeds the demo personas and their data, then opens one session per
// persona. Running it again reuses the data and issues fresh tokens.
func Demo(ctx context.Context, c *ent.Client, accounts *account.Service, now time.Time) (*World, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	if err := EnsureCatalog(ctx, c); err != nil {
		return nil, fmt.Errorf("seed catalog: %w", err)
	}
	users := map[string]*ent.User{}
	people := []struct {
		persona string
		p       Person
	}{
		{"adult", Person{Phone: "13800000001", Nickname: "阿伟", RealName: "张伟", Birth: YearsAgo(now, 34, 40), Seq: 1}},
		{"teen", Person{Phone: "13800000002", Nickname: "小雨", RealName: "李雨涵", Birth: YearsAgo(now, 16, 30), Seq: 2}},
		{"guardian", Person{Phone: "13800000004", Nickname: "王妈妈", RealName: "王芳", Birth: YearsAgo(now, 41, 100), Seq: 4}},
		{"unverified", Person{Phone: "13800000005", Nickname: "新用户"}},
		{"support", Person{Phone: "13900000001", Nickname: "客服小张", Role: classification.RoleSupport}},
		{"risk", Person{Phone: "13900000002", Nickname: "风控老李", Role: classification.RoleRisk}},
		{"admin", Person{Phone: "13900000003", Nickname: "管理员", Role: classification.RoleAdmin}},
		{"auditor", Person{Phone: "13900000004", Nickname: "审计员", Role: classification.RoleAuditor}},
	}
	for _, pp := range people {
		u, err := EnsureUser(ctx, c, pp.p, now)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", pp.persona, err)
		}
		users[pp.persona] = u
	}
	guardian := users["guardian"]
	child, err := EnsureUser(ctx, c, Person{
		Phone: "13800000003", Nickname: "小明", RealName: "王小明",
		Birth: YearsAgo(now, 12, 60), GuardianID: guardian.ID, Seq: 3,
	}, now)
	if err != nil {
		return nil, fmt.Errorf("seed child: %w", err)
	}
	users["child"] = child
	teen, err := EnsureUser(ctx, c, Person{
		Phone: "13800000006", Nickname: "小军", RealName: "王子军",
		Birth: YearsAgo(now, 16, 200), GuardianID: guardian.ID, Seq: 6,
	}, now)
	if err != nil {
		return nil, fmt.Errorf("seed teen_consented: %w", err)
	}
	users["teen_consented"] = teen
	// The teen without a guardian has one's request waiting; the adult's
	// guardianship ended when they came of age.
	if _, err := EnsureGuardianLink(ctx, c, guardian, users["teen"], guardianlink.StatusPENDING, now); err != nil {
		return nil, err
	}
	if _, err := EnsureGuardianLink(ctx, c, guardian, users["adult"], guardianlink.StatusENDED, now); err != nil {
		return nil, err
	}

	for _, persona := range []string{"adult", "teen", "guardian", "unverified"} {
		if err := EnsureConsent(ctx, c, users[persona].ID, classification.ConsentAccount, 0, now); err != nil {
			return nil, err
		}
	}
	for _, persona := range []string{"adult", "teen", "guardian"} {
		if err := EnsureConsent(ctx, c, users[persona].ID, classification.ConsentRealName, 0, now); err != nil {
			return nil, err
		}
	}
	for _, ward := range []*ent.User{child, teen} {
		for _, p := range []classification.ConsentPurpose{classification.ConsentAccount, classification.ConsentRealName} {
			if err := EnsureConsent(ctx, c, ward.ID, p, guardian.ID, now); err != nil {
				return nil, err
			}
		}
	}
	if err := EnsureConsent(ctx, c, teen.ID, classification.ConsentAccount, 0, now); err != nil {
		return nil, err
	}

	for _, p := range []classification.ConsentPurpose{
		classification.ConsentDevice, classification.ConsentActivity, classification.ConsentContacts,
		classification.ConsentCallLog, classification.ConsentLocation, classification.ConsentThirdPartyAccount,
		classification.ConsentFace,
	} {
		if err := EnsureConsent(ctx, c, users["adult"].ID, p, 0, now); err != nil {
			return nil, err
		}
	}
	if err := EnsureCollected(ctx, c, users["adult"], now); err != nil {
		return nil, fmt.Errorf("seed collected data: %w", err)
	}
	if err := EnsureWithdrawnConsent(ctx, c, users["adult"].ID, classification.ConsentMarketing, now); err != nil {
		return nil, err
	}
	if err := EnsureSharingConsent(ctx, c, users["adult"].ID, "Umeng", now); err != nil {
		return nil, err
	}
	if err := EnsureRightsRequest(ctx, c, users["adult"], now); err != nil {
		return nil, err
	}
	if err := EnsureDisclosureNotice(ctx, c, users["adult"], now); err != nil {
		return nil, err
	}
	for _, persona := range []string{"adult", "teen", "teen_consented", "guardian", "child"} {
		if err := EnsureRealNameVerification(ctx, c, users[persona], now); err != nil {
			return nil, err
		}
	}

	bike, err := EnsureListing(ctx, c, guardian.ID, "二手山地自行车", 45000, now)
	if err != nil {
		return nil, err
	}
	books, err := EnsureListing(ctx, c, guardian.ID, "高中数学教辅一套", 3000, now)
	if err != nil {
		return nil, err
	}
	// Goods shipping from Japan: buying them is cross-border trade.
	camera, err := EnsureListingFrom(ctx, c, guardian.ID, "日本直邮胶片相机", 128000, "JP", now)
	if err != nil {
		return nil, err
	}
	paid, err := EnsureOrder(ctx, c, "DEMO-0001", users["adult"], bike, order.StatusPAID, now)
	if err != nil {
		return nil, err
	}
	completed, err := EnsureOrder(ctx, c, "DEMO-0002", users["adult"], books, order.StatusCOMPLETED, now)
	if err != nil {
		return nil, err
	}

	if err := EnsureSharing(ctx, c, paid, now); err != nil {
		return nil, err
	}

	if err := EnsureRevokedSession(ctx, c, accounts, users["adult"].ID); err != nil {
		return nil, err
	}

	tokens := make(map[string]string, len(Personas))
	for _, persona := range Personas {
		token, err := accounts.IssueSession(ctx, users[persona].ID)
		if err != nil {
			return nil, err
		}
		tokens[persona] = token
	}
	return &World{
		Users:    users,
		Tokens:   tokens,
		Orders:   []*ent.Order{paid, completed},
		Listings: []*ent.Listing{bike, books, camera},
	}, nil
}
