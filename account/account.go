// Package account signs users in: one-time SMS login codes, opaque bearer
// sessions stored only as hashes, and the viewer each request acts as.
package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/logincode"
	"veil/ent/session"
	"veil/ent/user"
	"veil/fault"
	"veil/ledger"
	"veil/reqctx"
	"veil/store"
)

// Login-code and session limits.
const (
	CodeTTL          = 5 * time.Minute
	CodeInterval     = time.Minute // between two codes for one number
	CodesPerHour     = 5           // per number and client address
	CodesPerNumber   = 20          // per number an hour, from all addresses
	MaxCodeAttempts  = 5           // guesses at a code from the address that asked, and from all others
	SessionTTL       = 30 * 24 * time.Hour
	tokenPrefix      = "veil_"
	tokenRandomBytes = 32
	loginCodeDigits  = 6
)

// Service issues login codes and sessions.
type Service struct {
	Client *ent.Client
	// SMS delivers login codes.
	SMS Sender
	// CodeKey keys the hash of stored login codes. Processes that share a
	// store must share the key, or codes sent by one fail on another.
	CodeKey []byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// CodeTicket tells the client what happened to a code request.
type CodeTicket struct {
	ExpiresIn  time.Duration
	RetryAfter time.Duration
}

// RequestCode sends a new login code to phone, subject to the per-number
// limits. The code goes only to the SMS sender: never to a log or response.
//
// The limits are counted per number and client address (one a minute, 5
// an hour), so that requests from a stranger's address never use up the
// person's own, and per number from all addresses (20 an hour), which
// bounds the messages one number receives.
func (s *Service) RequestCode(ctx context.Context, rawPhone string) (CodeTicket, error) {
	phone, ok := check.NormalizePhone(rawPhone)
	if !ok {
		return CodeTicket{}, fault.Invalid("phone", "must be a mainland China mobile number, e.g. 13812345678")
	}
	now := s.now()
	here := s.addressKey(ctx)
	recent, err := s.Client.LoginCode.Query().
		Where(logincode.Phone(phone), logincode.CreatedAtGT(now.Add(-time.Hour))).
		Order(ent.Desc(logincode.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return CodeTicket{}, err
	}
	var fromHere []*ent.LoginCode
	for _, lc := range recent {
		if hmac.Equal(lc.RequestedFrom, here) {
			fromHere = append(fromHere, lc)
		}
	}
	if len(fromHere) > 0 {
		if wait := fromHere[0].CreatedAt.Add(CodeInterval).Sub(now); wait > 0 {
			return CodeTicket{}, fault.Limited("a code was sent to this number moments ago", seconds(wait))
		}
	}
	if len(fromHere) >= CodesPerHour {
		wait := fromHere[len(fromHere)-1].CreatedAt.Add(time.Hour).Sub(now)
		return CodeTicket{}, fault.Limited("too many codes requested for this number", seconds(wait))
	}
	if len(recent) >= CodesPerNumber {
		wait := recent[len(recent)-1].CreatedAt.Add(time.Hour).Sub(now)
		return CodeTicket{}, fault.Limited("too many codes requested for this number", seconds(wait))
	}
	code, err := randomDigits(loginCodeDigits)
	if err != nil {
		return CodeTicket{}, err
	}
	if _, err := s.Client.LoginCode.Create().
		SetPhone(phone).
		SetCodeHash(s.codeHash(phone, code)).
		SetRequestedFrom(here).
		SetCreatedAt(now).
		SetExpiresAt(now.Add(CodeTTL)).
		Save(ctx); err != nil {
		return CodeTicket{}, err
	}
	if err := s.SMS.SendLoginCode(ctx, phone, code); err != nil {
		return CodeTicket{}, fmt.Errorf("account: send login code: %w", err)
	}
	return CodeTicket{ExpiresIn: CodeTTL, RetryAfter: CodeInterval}, nil
}

// Login checks code against the newest live code for phone that this
// client address asked for (or, if it asked for none, the newest live
// code) and, if it matches, opens a session, creating the account on
// first login.
//
// Each guess is counted before the code is compared, with one conditional
// UPDATE, so concurrent guesses cannot pass the limit. Guesses from the
// address that asked for the code and from every other address count
// separately, MaxCodeAttempts each: a stranger can neither burn someone's
// code nor shadow it with a newer one of their own.
func (s *Service) Login(ctx context.Context, rawPhone, code string) (token string, sess *ent.Session, err error) {
	phone, ok := check.NormalizePhone(rawPhone)
	if !ok {
		return "", nil, fault.Invalid("phone", "must be a mainland China mobile number, e.g. 13812345678")
	}
	code = strings.TrimSpace(code)
	if len(code) != loginCodeDigits || strings.Trim(code, "0123456789") != "" {
		return "", nil, fault.Invalid("code", fmt.Sprintf("must be the %d-digit code sent by SMS", loginCodeDigits))
	}
	now := s.now()
	here := s.addressKey(ctx)
	badCode := fault.New(fault.Unauthenticated, "the code is wrong or has expired; request a new one")
	live, err := s.Client.LoginCode.Query().
		Where(logincode.Phone(phone), logincode.UsedAtIsNil(), logincode.ExpiresAtGT(now)).
		Order(ent.Desc(logincode.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return "", nil, err
	}
	if len(live) == 0 {
		return "", nil, badCode
	}
	lc := live[0]
	for _, c := range live {
		if hmac.Equal(c.RequestedFrom, here) {
			lc = c
			break
		}
	}
	claim := s.Client.LoginCode.Update().Where(logincode.ID(lc.ID), logincode.UsedAtIsNil())
	if hmac.Equal(lc.RequestedFrom, here) {
		claim.Where(logincode.AttemptsLT(MaxCodeAttempts)).AddAttempts(1)
	} else {
		claim.Where(logincode.ForeignAttemptsLT(MaxCodeAttempts)).AddForeignAttempts(1)
	}
	n, err := claim.Save(ctx)
	if err != nil {
		return "", nil, err
	}
	if n == 0 || subtle.ConstantTimeCompare(lc.CodeHash, s.codeHash(phone, code)) != 1 {
		return "", nil, badCode
	}
	err = store.WithTx(ctx, s.Client, func(tx *ent.Tx) error {
		// Mark the code used only if no other login used it first.
		n, err := tx.LoginCode.Update().
			Where(logincode.ID(lc.ID), logincode.UsedAtIsNil()).
			SetUsedAt(now).
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return badCode
		}
		u, err := tx.User.Query().Where(user.Phone(phone)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			u, err = tx.User.Create().SetPhone(phone).SetCreatedAt(now).Save(ctx)
			if err != nil {
				return err
			}
			// Registering accepts the current policy (P1.2): the app shows it
			// before the first login code is sent.
			if _, err := ledger.Grant(ctx, tx.Client(), u.ID, ledger.Scope{Purpose: classification.ConsentAccount}, 0, now); err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Status == user.StatusCANCELLED:
			return fault.ErrAccountCancelled
		case u.SuspendedAt != nil:
			return ErrSuspended
		}
		token, sess, err = issue(ctx, tx.Client(), u.ID, now)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// IssueSession opens a session for userID without a login code. It is for
// seeding and tests; clients sign in with Login.
func (s *Service) IssueSession(ctx context.Context, userID int) (string, error) {
	token, _, err := issue(ctx, s.Client, userID, s.now())
	return token, err
}

func issue(ctx context.Context, c *ent.Client, userID int, now time.Time) (string, *ent.Session, error) {
	buf := make([]byte, tokenRandomBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", nil, err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	sess, err := c.Session.Create().
		SetUserID(userID).
		SetTokenHash(TokenHash(token)).
		SetCreatedAt(now).
		SetExpiresAt(now.Add(SessionTTL)).
		Save(ctx)
	if err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// Authenticate returns the viewer a bearer token acts as. The purpose is
// the raw X-Access-Purpose header: only staff may declare one, and only a
// purpose their role allows.
func (s *Service) Authenticate(ctx context.Context, token, purposeHeader string) (classification.Viewer, error) {
	purpose, err := classification.ParsePurpose(purposeHeader)
	if err != nil {
		return classification.Anonymous, fault.Invalid("X-Access-Purpose", "unknown access purpose; one of after_sales, dispute, fraud_investigation, minor_protection, audit, legal_hold")
	}
	if token == "" {
		if purpose != classification.NoPurpose {
			return classification.Anonymous, fault.New(fault.Forbidden, "only staff may declare an access purpose")
		}
		return classification.Anonymous, nil
	}
	invalid := fault.New(fault.Unauthenticated, "the bearer token is unknown, expired or revoked; sign in again")
	if !strings.HasPrefix(token, tokenPrefix) {
		return classification.Anonymous, invalid
	}
	sess, found, err := s.signedIn(ctx, TokenHash(token))
	if err != nil {
		return classification.Anonymous, err
	}
	now := s.now()
	switch {
	case !found:
		return classification.Anonymous, invalid
	case sess.status == user.StatusCANCELLED:
		// Cancellation also revoked the session; say why it stopped.
		return classification.Anonymous, fault.ErrAccountCancelled
	case sess.suspendedAt.Valid:
		return classification.Anonymous, ErrSuspended
	case sess.revokedAt.Valid, !sess.expiresAt.After(now):
		return classification.Anonymous, invalid
	}
	role, err := classification.ParseRole(string(sess.role))
	if err != nil {
		return classification.Anonymous, err
	}
	v := classification.Viewer{
		UserID:    sess.userID,
		SessionID: sess.id,
		Role:      role,
		Purpose:   purpose,
	}
	if purpose != classification.NoPurpose && !v.Role.MayDeclare(purpose) {
		return classification.Anonymous, fault.New(fault.Forbidden, fmt.Sprintf("role %s may not declare access purpose %s", v.Role, purpose))
	}
	return v, nil
}

// signedInSession is what authenticating a request needs of its session and of
// the account it belongs to.
type signedInSession struct {
	id, userID  int
	expiresAt   time.Time
	revokedAt   sql.NullTime
	suspendedAt sql.NullTime
	status      user.Status
	role        user.Role
}

// signedIn reads the session of a token hash and its account's state and
// role in one statement (every request runs it), and nothing else of the
// account: no encrypted column is read, so none is decrypted.
func (s *Service) signedIn(ctx context.Context, tokenHash []byte) (signedInSession, bool, error) {
	drv := s.Client.Driver()
	b := entsql.Dialect(drv.Dialect())
	st, ut := b.Table(session.Table).As("s"), b.Table(user.Table).As("u")
	query, args := b.Select(st.C(session.FieldID), st.C(session.FieldUserID), st.C(session.FieldExpiresAt),
		st.C(session.FieldRevokedAt), ut.C(user.FieldStatus), ut.C(user.FieldRole), ut.C(user.FieldSuspendedAt)).
		From(st).Join(ut).On(st.C(session.FieldUserID), ut.C(user.FieldID)).
		Where(entsql.EQ(st.C(session.FieldTokenHash), tokenHash)).
		Query()
	rows := &entsql.Rows{}
	if err := drv.Query(ctx, query, args, rows); err != nil {
		return signedInSession{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return signedInSession{}, false, rows.Err()
	}
	var r signedInSession
	if err := rows.Scan(&r.id, &r.userID, &r.expiresAt, &r.revokedAt, &r.status, &r.role, &r.suspendedAt); err != nil {
		return signedInSession{}, false, err
	}
	return r, true, rows.Err()
}

// ErrSuspended refuses a suspended staff account (package staff).
var ErrSuspended = fault.New(fault.Unauthenticated, "this staff account is suspended: ask an admin")

// Revoke ends a session at once.
func (s *Service) Revoke(ctx context.Context, sessionID int) error {
	return s.Client.Session.UpdateOneID(sessionID).SetRevokedAt(s.now()).Exec(ctx)
}

// TokenHash is how a bearer token is stored: its SHA-256. Tokens carry 256
// random bits, so an unkeyed hash is enough.
func TokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// addressKey is the keyed hash a login code keeps of the client address
// of ctx: enough to tell one address from another, never the address.
func (s *Service) addressKey(ctx context.Context) []byte {
	m := hmac.New(sha256.New, s.CodeKey)
	m.Write([]byte("address\x00"))
	m.Write([]byte(reqctx.From(ctx).ClientIP))
	return m.Sum(nil)
}

func (s *Service) codeHash(phone, code string) []byte {
	m := hmac.New(sha256.New, s.CodeKey)
	m.Write([]byte(phone))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

func randomDigits(n int) (string, error) {
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String(), nil
}

func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
