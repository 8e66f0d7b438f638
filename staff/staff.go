// Package staff is the administration of staff accounts: admins create
// them, change their roles, suspend, reinstate and remove them. Every step
// is audited, ends the account's sessions when it changes what they may do,
// and never leaves the system without an active admin.
package staff

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"veil/audit"
	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/session"
	"veil/ent/user"
	"veil/fault"
	"veil/store"
)

// The audit actions of staff administration.
const (
	Created    = "STAFF_CREATED"
	RoleChange = "STAFF_ROLE_CHANGED"
	Suspended  = "STAFF_SUSPENDED"
	Reinstated = "STAFF_REINSTATED"
	Removed    = "STAFF_REMOVED"
)

// ErrLastAdmin refuses a change that would leave no active admin.
var ErrLastAdmin = fault.New(fault.ValidationFailed, "this is the last active admin: make another admin first")

// List returns every staff account, suspended ones included, by ID.
func List(ctx context.Context, c *ent.Client) ([]*ent.User, error) {
	roles := make([]user.Role, len(classification.StaffRoles))
	for i, r := range classification.StaffRoles {
		roles[i] = user.Role(r)
	}
	// SECURITY: staff accounts are the admin's to manage, not personal
	// data of a subject the row rule would hide.
	return c.User.Query().Where(user.RoleIn(roles...), user.StatusEQ(user.StatusACTIVE)).
		Order(ent.Asc(user.FieldID)).All(classification.AsSystem(ctx))
}

// Create opens a staff account of role for the number phone. A number
// that has an account already is refused: a staff account is for work,
// never someone's own account with staff powers added.
func Create(ctx context.Context, c *ent.Client, admin classification.Viewer, rawPhone, nickname string, role classification.Role, now time.Time) (*ent.User, error) {
	phone, ok := check.NormalizePhone(rawPhone)
	var v check.Checker
	if !ok {
		v.Fail("phone", "must be a mainland China mobile number, e.g. 13812345678")
	}
	nickname = v.DisplayName("nickname", nickname, 1, 32)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !role.IsStaff() {
		return nil, fault.Invalid("role", "must be a staff role")
	}
	ctx = classification.AsSystem(ctx) // SECURITY: admin-only (@access ADMIN), audited below.
	var u *ent.User
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		if err := stillAdmin(ctx, c, tx, admin); err != nil {
			return err
		}
		taken, err := tx.User.Query().Where(user.Phone(phone)).Exist(ctx)
		if err != nil {
			return err
		}
		if taken {
			return fault.Invalid("phone", "has an account already: a staff account needs a number of its own")
		}
		u, err = tx.User.Create().SetPhone(phone).SetNickname(nickname).SetRole(user.Role(role)).SetCreatedAt(now).Save(ctx)
		if ent.IsConstraintError(err) {
			// The number signed up between the check and the insert.
			return fault.Invalid("phone", "has an account already: a staff account needs a number of its own")
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, admin, u.ID, Created, string(role), now)
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

// ChangeRole gives the staff account id role; its sessions end.
func ChangeRole(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, role classification.Role, now time.Time) (*ent.User, error) {
	if !role.IsStaff() {
		return nil, fault.Invalid("role", "must be a staff role")
	}
	return change(ctx, c, admin, id, now, func(tx *ent.Tx, u *ent.User) (string, string, error) {
		if classification.RoleOf(u.Role) == role {
			return "", "", nil
		}
		detail := string(u.Role) + " -> " + string(role)
		_, err := tx.User.UpdateOne(u).SetRole(user.Role(role)).Save(ctx)
		return RoleChange, detail, err
	})
}

// Suspend stops the staff account id from signing in; its sessions end.
func Suspend(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time) (*ent.User, error) {
	return change(ctx, c, admin, id, now, func(tx *ent.Tx, u *ent.User) (string, string, error) {
		if u.SuspendedAt != nil {
			return "", "", nil
		}
		return Suspended, "", tx.User.UpdateOne(u).SetSuspendedAt(now).Exec(ctx)
	})
}

// Reinstate lets a suspended staff account id sign in again.
func Reinstate(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time) (*ent.User, error) {
	return change(ctx, c, admin, id, now, func(tx *ent.Tx, u *ent.User) (string, string, error) {
		if u.SuspendedAt == nil {
			return "", "", nil
		}
		return Reinstated, "", tx.User.UpdateOne(u).ClearSuspendedAt().Exec(ctx)
	})
}

// Remove ends the staff account id: it is closed like a cancelled account
// (its sessions end, it never signs in again, its number is free for a
// new account), and kept, so that the audit log's entries by it still
// name someone.
func Remove(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time) (*ent.User, error) {
	return change(ctx, c, admin, id, now, func(tx *ent.Tx, u *ent.User) (string, string, error) {
		err := tx.User.UpdateOne(u).SetStatus(user.StatusCANCELLED).SetCancelledAt(now).
			SetPhone(fmt.Sprintf("cancelled:%d", id)).Exec(ctx)
		return Removed, string(u.Role), err
	})
}

// change applies step to the staff account id in a transaction that holds
// every admin row: it refuses to leave no active admin, even when two
// admins change each other at once. step returns the audit action and
// detail of what it changed, or "" if nothing.
func change(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time, step func(*ent.Tx, *ent.User) (string, string, error)) (*ent.User, error) {
	ctx = classification.AsSystem(ctx) // SECURITY: admin-only (@access ADMIN), audited below.
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		if err := stillAdmin(ctx, c, tx, admin); err != nil {
			return err
		}
		u, err := tx.User.Query().Where(user.ID(id), user.StatusEQ(user.StatusACTIVE)).Only(ctx)
		if ent.IsNotFound(err) || err == nil && !classification.RoleOf(u.Role).IsStaff() {
			return fault.Invalid("id", "is not a staff account")
		}
		if err != nil {
			return err
		}
		action, detail, err := step(tx, u)
		if err != nil || action == "" {
			return err
		}
		left, err := tx.User.Query().Where(user.RoleEQ(user.RoleAdmin), user.StatusEQ(user.StatusACTIVE), user.SuspendedAtIsNil()).Count(ctx)
		if err != nil {
			return err
		}
		if left == 0 {
			return ErrLastAdmin
		}
		// What the account may do changed: its sessions end.
		if err := tx.Session.Update().Where(session.UserID(id), session.RevokedAtIsNil()).SetRevokedAt(now).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, admin, id, action, detail, now)
	})
	if err != nil {
		return nil, err
	}
	u, err := c.User.Get(classification.AsSystem(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("staff: read back: %w", err)
	}
	return u, nil
}

// ErrNotAdmin refuses a step by an account that is no longer an active
// admin: its role changed, or it was suspended or removed, after its
// request was authenticated.
var ErrNotAdmin = fault.New(fault.Forbidden, "you are no longer an active admin")

// stillAdmin locks every admin row for the transaction (so that two steps
// never both count on an admin the other is changing) and checks that the
// acting account is still an active admin now: a request authenticated
// before its account was demoted, suspended or removed acts no more.
func stillAdmin(ctx context.Context, c *ent.Client, tx *ent.Tx, admin classification.Viewer) error {
	admins := tx.User.Query().Where(user.RoleEQ(user.RoleAdmin))
	if c.Driver().Dialect() == dialect.Postgres {
		admins = admins.ForUpdate()
	}
	ids, err := admins.Where(user.StatusEQ(user.StatusACTIVE), user.SuspendedAtIsNil()).IDs(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, admin.UserID) {
		return ErrNotAdmin
	}
	return nil
}

func record(ctx context.Context, tx *ent.Tx, admin classification.Viewer, subject int, action, detail string, now time.Time) error {
	return audit.Append(ctx, tx.Client(), now, audit.Entry{ActorID: admin.UserID, ActorRole: string(admin.Role), SubjectID: subject, Action: action, Detail: detail})
}
