package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"veil/analytics"
	"veil/classification"
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
	v := classification.FromContext(ctx)
	return v.SignedIn() && !v.IsStaff() &&
		privacy.Consented(ctx, r.Client, v.UserID, classification.ConsentAnalyticsCookies, "", "counting page views", r.now()) == nil
}

// analyticsCookieWithdrawn removes the analytics cookie, and what was
// counted under it, when the user withdraws the consent.
func (r *Resolver) analyticsCookieWithdrawn(ctx context.Context, p classification.ConsentPurpose) error {
	jar := reqctx.From(ctx).Cookies
	if p != classification.ConsentAnalyticsCookies || jar == nil || jar.Visitor() == "" {
		return nil
	}
	// SECURITY: page views are about no account; the withdrawing
	// browser's cookie names its own.
	if _, err := r.Client.WebVisit.Delete().Where(webvisit.Visitor(visitorKey(jar.Visitor()))).Exec(classification.AsSystem(ctx)); err != nil {
		return err
	}
	jar.ClearVisitor()
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
	if !r.analyticsConsented(ctx) {
		jar.ClearVisitor()
		return false, nil
	}
	route := analytics.RouteTemplate(page)
	if route == "" {
		return false, nil
	}
	y, m, d := r.now().In(beijing).Date()
	// SECURITY: the row is about no account (SystemRows): the consent it
	// needs was checked above, for the signed-in user.
	err := r.Client.WebVisit.Create().SetVisitor(visitorKey(jar.Visitor())).SetPage(route).
		SetDay(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)).Exec(classification.AsSystem(ctx))
	return err == nil, err
}

var beijing = time.FixedZone("CST", 8*3600)
