package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"veil/analytics"
	"veil/classification"
	"veil/ent/consent"
	"veil/ent/webvisit"
	"veil/privacy"
	"veil/reqctx"
)

// visitorKey is how a page view is keyed: the SHA-256 of the analytics
// cookie (128 random bits), never the cookie or the account.
func visitorKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// analyticsCookieGranted sets the analytics cookie once the user's
// consent to it counts (a minor's needs the guardian's), given from a page
// of this site (POLICY.md P2).
func (r *Resolver) analyticsCookieGranted(ctx context.Context, p classification.ConsentPurpose) {
	jar := reqctx.From(ctx).Cookies
	if p != classification.ConsentAnalyticsCookies || jar == nil || jar.CheckOrigin() != nil || jar.Visitor() != "" {
		return
	}
	if r.analyticsConsented(ctx) {
		jar.SetVisitor()
	}
}

// analyticsConsented reports whether the signed-in user's consent to
// analytics cookies counts now.
func (r *Resolver) analyticsConsented(ctx context.Context) bool {
	_, ok := r.analyticsConsent(ctx)
	return ok
}

// analyticsConsent returns the active ANALYTICS_COOKIES consent a page
// view of the signed-in user counts under, when their consent counts.
func (r *Resolver) analyticsConsent(ctx context.Context) (int, bool) {
	v := classification.FromContext(ctx)
	if !v.SignedIn() || v.IsStaff() ||
		privacy.Consented(ctx, r.Client, v.UserID, classification.ConsentAnalyticsCookies, "", "counting page views", r.now()) != nil {
		return 0, false
	}
	id, err := r.Client.Consent.Query().Where(consent.UserID(v.UserID), consent.PurposeEQ(consent.PurposeANALYTICS_COOKIES),
		consent.WithdrawnAtIsNil()).FirstID(classification.AsSystem(ctx))
	return id, err == nil
}

// analyticsCookieWithdrawn deletes, when subjectID's consent to analytics
// cookies is withdrawn (from any device, or by their guardian), every
// page view counted under it, and removes the cookie of this browser.
func (r *Resolver) analyticsCookieWithdrawn(ctx context.Context, subjectID int, p classification.ConsentPurpose, here bool) error {
	if p != classification.ConsentAnalyticsCookies {
		return nil
	}
	// SECURITY: page views are never served; these are the subject's own,
	// found by the consents they were counted under.
	sys := classification.AsSystem(ctx)
	ids, err := r.Client.Consent.Query().Where(consent.UserID(subjectID), consent.PurposeEQ(consent.PurposeANALYTICS_COOKIES)).IDs(sys)
	if err != nil {
		return err
	}
	if _, err := r.Client.WebVisit.Delete().Where(webvisit.ConsentIDIn(ids...)).Exec(sys); err != nil {
		return err
	}
	if jar := reqctx.From(ctx).Cookies; here && jar != nil && jar.Visitor() != "" {
		jar.ClearVisitor()
	}
	return nil
}

// recordPageView counts a page view under the analytics cookie when the
// signed-in user's ANALYTICS_COOKIES consent counts; a cookie without it
// is removed.
func (r *Resolver) recordPageView(ctx context.Context, page string) (bool, error) {
	jar := reqctx.From(ctx).Cookies
	if jar == nil || jar.Visitor() == "" {
		return false, nil
	}
	consentID, ok := r.analyticsConsent(ctx)
	if !ok {
		jar.ClearVisitor()
		return false, nil
	}
	route := analytics.RouteTemplate(page)
	if route == "" {
		return false, nil
	}
	y, m, d := r.now().In(classification.ChinaTime).Date()
	// SECURITY: the row is about no account (SystemRows): the consent it
	// needs was checked above, for the signed-in user.
	err := r.Client.WebVisit.Create().SetVisitor(visitorKey(jar.Visitor())).SetPage(route).SetConsentID(consentID).
		SetDay(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)).Exec(classification.AsSystem(ctx))
	return err == nil, err
}
