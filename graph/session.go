package graph

import (
	"context"

	"veil/fault"
	"veil/graph/model"
	"veil/reqctx"
)

// login signs in with a login code: a bearer token in the answer, or with
// cookie a session held in the web session cookie, which only the site's
// own pages may ask for (the code is not spent on a refused request).
func (r *Resolver) login(ctx context.Context, phone, code string, cookie bool) (*model.LoginPayload, error) {
	jar := reqctx.From(ctx).Cookies
	if cookie {
		if jar == nil {
			return nil, fault.Invalid("cookie", "a cookie session is for requests from a browser")
		}
		if err := jar.CheckOrigin(); err != nil {
			return nil, err
		}
	}
	token, sess, err := r.Accounts.Login(ctx, phone, code)
	if err != nil {
		return nil, err
	}
	u, err := r.Client.User.Get(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	if cookie {
		jar.SetSession(token, sess.ExpiresAt)
		token = ""
	}
	return &model.LoginPayload{Token: token, ExpiresAt: sess.ExpiresAt, User: u}, nil
}
