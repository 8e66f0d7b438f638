package graph

import (
	"context"
	"errors"

	"veil/classification"
	"veil/fault"
	"veil/ledger"
	"veil/privacy"
)

// policyNotice is the signed-in user's notice of the policy: whose
// acceptance counts is decided as for the access rule (a minor's
// guardian's, once the guardian has consented to the account).
func (r *Resolver) policyNotice(ctx context.Context) (*ledger.Notice, error) {
	v := classification.FromContext(ctx)
	if !v.SignedIn() || v.IsStaff() {
		return nil, nil
	}
	acceptor, err := privacy.Acceptor(ctx, r.Client, v.UserID, r.now())
	if fe := (*fault.Error)(nil); err != nil && !(errors.As(err, &fe) && fe.Code == fault.GuardianConsentRequired) {
		return nil, err
	}
	return ledger.NoticeFor(ctx, r.Client, v.UserID, acceptor)
}
