package graph

import (
	"context"
	"strings"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/user"
	"veil/fault"
	"veil/graph/model"
	"veil/staff"
)

// staffAccount is the GraphQL form of a staff account.
func staffAccount(u *ent.User) *model.StaffAccountPayload {
	return &model.StaffAccountPayload{
		ID:        u.ID,
		Nickname:  u.Nickname,
		Role:      model.StaffRole(strings.ToUpper(string(u.Role))),
		Suspended: u.SuspendedAt != nil,
		Open:      u.Status == user.StatusACTIVE,
	}
}

// staffRole is the role a StaffRole names, through the one parser of roles.
func staffRole(r model.StaffRole) (classification.Role, error) {
	role, err := classification.ParseRole(strings.ToLower(string(r)))
	if err != nil || !role.IsStaff() {
		return "", fault.Invalid("role", "must be a staff role")
	}
	return role, nil
}

// staffStep is one step of staff administration (package staff).
type staffStep func(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time) (*ent.User, error)

// staffChange runs step as the request's admin and answers with the
// account as it is after.
func (r *Resolver) staffChange(ctx context.Context, id int, step staffStep) (*model.StaffAccountPayload, error) {
	v := classification.FromContext(ctx)
	u, err := step(ctx, r.Client, v, id, r.now())
	if err != nil {
		return nil, err
	}
	if id == v.UserID {
		// An admin who changed their own account: its sessions ended, this
		// request's too, so nothing after this field runs as an admin.
		switch {
		case u.Status != user.StatusACTIVE:
			endSession(ctx, fault.ErrAccountCancelled)
		case u.SuspendedAt != nil || classification.RoleOf(u.Role) != v.Role:
			endSession(ctx, fault.New(fault.Unauthenticated, "your session ended with the change to your own account; sign in again"))
		}
	}
	return staffAccount(u), nil
}

func (r *Resolver) createStaffAccount(ctx context.Context, phone, nickname string, role model.StaffRole) (*model.StaffAccountPayload, error) {
	to, err := staffRole(role)
	if err != nil {
		return nil, err
	}
	u, err := staff.Create(ctx, r.Client, classification.FromContext(ctx), phone, nickname, to, r.now())
	if err != nil {
		return nil, err
	}
	return staffAccount(u), nil
}

func (r *Resolver) changeStaffRole(ctx context.Context, id int, role model.StaffRole) (*model.StaffAccountPayload, error) {
	to, err := staffRole(role)
	if err != nil {
		return nil, err
	}
	return r.staffChange(ctx, id, func(ctx context.Context, c *ent.Client, admin classification.Viewer, id int, now time.Time) (*ent.User, error) {
		return staff.ChangeRole(ctx, c, admin, id, to, now)
	})
}

// staffAccounts lists the staff accounts, for admins.
func (r *Resolver) staffAccounts(ctx context.Context) ([]*model.StaffAccountPayload, error) {
	if v := classification.FromContext(ctx); !v.SignedIn() || v.Role != classification.RoleAdmin {
		return nil, fault.New(fault.Forbidden, "staff accounts are for admins")
	}
	list, err := staff.List(ctx, r.Client)
	if err != nil {
		return nil, err
	}
	out := make([]*model.StaffAccountPayload, len(list))
	for i, u := range list {
		out[i] = staffAccount(u)
	}
	return out, nil
}
