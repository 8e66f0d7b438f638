package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/vikstrous/dataloadgen"

	"veil/classification"
	"veil/ent"
	"veil/ent/user"
)

// subjectOf tells the classification engine whom a GraphQL object is about.
// Every object type with a non-public field must have a case here; the
// schema-driven tests fail for one that does not.
func (r *Resolver) subjectOf(ctx context.Context, obj any) (classification.Subject, error) {
	switch o := obj.(type) {
	case *ent.User:
		p := personOf(o, r.now())
		if l := peopleFrom(ctx); l != nil {
			l.Prime(o.ID, p)
		}
		return p, nil
	case *ent.Order:
		p, err := r.person(ctx, o.BuyerID)
		p.CounterpartyID = o.SellerID
		return p, err
	case *ent.Consent:
		return r.person(ctx, o.UserID)
	case *ent.Listing:
		return r.person(ctx, o.SellerID)
	default:
		return classification.Subject{}, fmt.Errorf("graph: no subject rule for %T", obj)
	}
}

func personOf(u *ent.User, now time.Time) classification.Subject {
	s := classification.Subject{UserID: u.ID, AgeGroup: classification.AgeUnknown}
	if u.BirthDate != nil {
		s.AgeGroup = classification.AgeGroupOf(*u.BirthDate, now)
	}
	if u.GuardianID != nil {
		s.GuardianID = *u.GuardianID
	}
	return s
}

// person loads the subject facts of a user, batched and cached per request.
func (r *Resolver) person(ctx context.Context, id int) (classification.Subject, error) {
	if l := peopleFrom(ctx); l != nil {
		return l.Load(ctx, id)
	}
	u, err := r.Client.User.Query().Where(user.ID(id)).Select(user.FieldBirthDate, user.FieldGuardianID).Only(ctx)
	if err != nil {
		return classification.Subject{}, err
	}
	return personOf(u, r.now()), nil
}

type peopleKey struct{}

type peopleLoader = dataloadgen.Loader[int, classification.Subject]

func peopleFrom(ctx context.Context) *peopleLoader {
	l, _ := ctx.Value(peopleKey{}).(*peopleLoader)
	return l
}

// withPeople gives a request its own batched, cached loader of subjects.
func (r *Resolver) withPeople(ctx context.Context) context.Context {
	now := r.now()
	l := dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int) (map[int]classification.Subject, error) {
		users, err := r.Client.User.Query().
			Where(user.IDIn(ids...)).
			Select(user.FieldBirthDate, user.FieldGuardianID).
			All(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[int]classification.Subject, len(users))
		for _, u := range users {
			out[u.ID] = personOf(u, now)
		}
		for _, id := range ids {
			if _, ok := out[id]; !ok {
				// A user who no longer exists is nobody: fail closed.
				out[id] = classification.Subject{UserID: id, AgeGroup: classification.AgeUnknown}
			}
		}
		return out, nil
	}, dataloadgen.WithWait(time.Millisecond))
	return context.WithValue(ctx, peopleKey{}, l)
}
