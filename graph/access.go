package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"veil/classification"
	"veil/ent/session"
	"veil/ent/user"
	"veil/fault"
	"veil/graph/model"
	"veil/identity"
	"veil/ledger"
	"veil/metrics"
	"veil/privacy"
	"veil/reqctx"
)

// access implements @access on mutations: who may call one at all, checked
// before its resolver runs, in one place for every mutation.
func (r *Resolver) access(ctx context.Context, _ any, next graphql.Resolver, level model.AccessLevel) (any, error) {
	if err := sessionEnded(ctx); err != nil {
		// An earlier field of this document cancelled the account or
		// ended the session: nothing after it runs.
		return nil, err
	}
	if level == model.AccessLevelAnonymous {
		// Signing in is limited per client address as well as per phone.
		if r.SignInLimiter != nil {
			if ok, wait := r.SignInLimiter.Allow(ctx, reqctx.From(ctx).ClientIP, time.Now()); !ok {
				metrics.RateLimited.WithLabelValues("sign_in").Inc()
				return nil, fault.Limited("too many sign-in attempts from this address", int(wait/time.Second)+1)
			}
		}
		return next(ctx)
	}
	v := classification.FromContext(ctx)
	if !v.SignedIn() {
		return nil, fault.ErrUnauthenticated
	}
	switch level {
	case model.AccessLevelEssential:
		return next(ctx)
	case model.AccessLevelAdmin, model.AccessLevelLegalHold:
		role := user.RoleAdmin
		if level == model.AccessLevelLegalHold {
			role = user.RoleAuditor
			if !v.HasPurpose(classification.LegalHold) {
				return nil, fault.New(fault.Forbidden, "only an auditor declaring the purpose legal_hold (X-Access-Purpose) may do this")
			}
		} else if v.Role != classification.RoleAdmin {
			return nil, fault.New(fault.Forbidden, "only admins may do this")
		}
		// The role was read when the request began; staff demoted,
		// suspended or removed since (by another request) act no more.
		// These mutations are rare: one statement each is cheap.
		ok, err := r.Client.Session.Query().Where(session.ID(v.SessionID), session.RevokedAtIsNil(),
			session.HasUserWith(user.RoleEQ(role), user.StatusEQ(user.StatusACTIVE), user.SuspendedAtIsNil())).
			Exist(classification.AsSystem(ctx))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fault.New(fault.Unauthenticated, "your session ended: your account changed since this request began; sign in again")
		}
		return next(ctx)
	case model.AccessLevelOrdinary, model.AccessLevelTrading:
	default:
		return nil, fmt.Errorf("graph: unknown access level %q", level)
	}
	if v.IsStaff() {
		return next(ctx)
	}
	// A minor's use of the service rests on their guardian's consent
	// (P6.1), and so does their acceptance of a new major version.
	acceptor, minorErr := privacy.Acceptor(ctx, r.Client, v.UserID, r.now())
	if fe := (*fault.Error)(nil); minorErr != nil && !(errors.As(minorErr, &fe) && fe.Code == fault.GuardianConsentRequired) {
		return nil, minorErr
	}
	stale, err := ledger.NeedsReconsent(ctx, r.Client, v.UserID, acceptor)
	if err != nil {
		return nil, err
	}
	if stale {
		return nil, fault.New(fault.PolicyReconsentRequired, "a new version of the privacy policy needs your acceptance first (acceptPolicy; a guardian accepts for their ward with forUser); reading it, exporting your data and cancelling your account still work")
	}
	if level == model.AccessLevelTrading {
		if err := r.mayTrade(ctx, v.UserID); err != nil {
			return nil, err
		}
	}
	if minorErr != nil {
		return nil, minorErr
	}
	return next(ctx)
}

// mayTrade applies POLICY.md P1.3: trading needs a verified real name, and
// nobody under 18 may trade at all. The age is derived today.
func (r *Resolver) mayTrade(ctx context.Context, userID int) error {
	u, err := r.Client.User.Get(ctx, userID)
	if err != nil {
		return err
	}
	if u.RealNameVerifiedAt == nil {
		return fault.New(fault.RealNameRequired, "trading needs real-name verification first (submitRealName)")
	}
	if privacy.PersonOf(u, r.now()).AgeGroup != classification.AgeAdult {
		return fault.New(fault.MinorRestricted, "users under 18 cannot trade")
	}
	return nil
}

// checkAccessDeclared refuses a schema with a mutation that declares no
// @access level, so that no mutation runs unchecked.
func checkAccessDeclared(es graphql.ExecutableSchema) error {
	var missing []error
	if m := es.Schema().Mutation; m != nil {
		for _, f := range m.Fields {
			if f.Directives.ForName("access") == nil {
				missing = append(missing, fmt.Errorf("mutation %s has no @access level", f.Name))
			}
		}
	}
	return errors.Join(missing...)
}

// actingFor returns whom a request acts on: the caller, or with forUser
// a ward over whom the caller holds power (see identity.ActingFor).
func (r *Resolver) actingFor(ctx context.Context, forUser *int, power classification.Power) (subject, guardian int, err error) {
	return identity.ActingFor(ctx, r.Client, classification.FromContext(ctx), forUser, power, r.now())
}

// mayAudit admits auditors who declared audit or legal_hold.
func (r *Resolver) mayAudit(ctx context.Context) error {
	v := classification.FromContext(ctx)
	if v.Role != classification.RoleAuditor || !(v.HasPurpose(classification.Audit) || v.HasPurpose(classification.LegalHold)) {
		return fault.New(fault.Forbidden, "the audit log is for auditors declaring X-Access-Purpose: audit or legal_hold")
	}
	return nil
}

type sessionEndKey struct{}

// sessionEnd remembers, for one request, that a field ended its session
// (logout) or cancelled its account: mutations run one after the other,
// and none after that may act for the account.
type sessionEnd struct {
	mu  sync.Mutex
	err error
}

func withSessionEnd(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionEndKey{}, &sessionEnd{})
}

// endSession makes every later field of the request fail with err.
func endSession(ctx context.Context, err error) {
	if e, ok := ctx.Value(sessionEndKey{}).(*sessionEnd); ok {
		e.mu.Lock()
		e.err = err
		e.mu.Unlock()
	}
}

func sessionEnded(ctx context.Context) error {
	e, ok := ctx.Value(sessionEndKey{}).(*sessionEnd)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
