// Package fault defines the errors Veil reports to clients. Each carries
// one of the contract's codes (errors[].extensions.code); the GraphQL error
// presenter maps them in one place, and anything else becomes INTERNAL with
// no detail. Messages never contain a protected value.
package fault

import "errors"

// Code is a contract error code.
type Code string

// The codes of the contract, plus INTERNAL for everything unexpected.
const (
	Unauthenticated         Code = "UNAUTHENTICATED"
	Forbidden               Code = "FORBIDDEN"
	ValidationFailed        Code = "VALIDATION_FAILED"
	ConsentRequired         Code = "CONSENT_REQUIRED"
	MinorRestricted         Code = "MINOR_RESTRICTED"
	RealNameRequired        Code = "REAL_NAME_REQUIRED"
	GuardianConsentRequired Code = "GUARDIAN_CONSENT_REQUIRED"
	PolicyReconsentRequired Code = "POLICY_RECONSENT_REQUIRED"
	AccountCancelled        Code = "ACCOUNT_CANCELLED"
	RateLimited             Code = "RATE_LIMITED"
	Internal                Code = "INTERNAL"
)

// Codes lists every code an answer may carry.
var Codes = []Code{
	Unauthenticated, Forbidden, ValidationFailed, ConsentRequired, MinorRestricted, RealNameRequired,
	GuardianConsentRequired, PolicyReconsentRequired, AccountCancelled, RateLimited, Internal,
}

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input, for VALIDATION_FAILED.
	Field string
	// RetryAfterSeconds hints when to retry, for RATE_LIMITED.
	RetryAfterSeconds int
	// Purpose names the consent purpose that is missing, for
	// CONSENT_REQUIRED and GUARDIAN_CONSENT_REQUIRED.
	Purpose string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrX) match any *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels, one per code, for errors.Is checks and plain returns.
var (
	ErrUnauthenticated  = &Error{Code: Unauthenticated, Message: "sign in first: send 'Authorization: Bearer <token>'"}
	ErrForbidden        = &Error{Code: Forbidden, Message: "you may not do this"}
	ErrAccountCancelled = &Error{Code: AccountCancelled, Message: "this account has been cancelled"}
	ErrInternal         = &Error{Code: Internal, Message: "internal error"}
	ErrUnavailable      = &Error{Code: Internal, Message: "the service is temporarily unavailable; try again shortly", RetryAfterSeconds: 2}
)

// Invalid returns a VALIDATION_FAILED error about one input field.
func Invalid(field, message string) error {
	return &Error{Code: ValidationFailed, Field: field, Message: field + ": " + message}
}

// Limited returns a RATE_LIMITED error with a retry hint.
func Limited(message string, retryAfterSeconds int) error {
	return &Error{Code: RateLimited, Message: message, RetryAfterSeconds: retryAfterSeconds}
}

// New returns an error with code and message.
func New(code Code, message string) error { return &Error{Code: code, Message: message} }

// NeedsConsent returns a CONSENT_REQUIRED error for a consent purpose;
// what is the processing that needs it ("collecting phone").
func NeedsConsent(purpose, what string) error {
	return &Error{Code: ConsentRequired, Purpose: purpose,
		Message: what + " needs your consent " + purpose + "; grant it with grantConsent"}
}
