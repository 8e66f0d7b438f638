package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"veil/account"
	"veil/ent/logincode"
	"veil/reqctx"
	"veil/veiltest"
)

// from is a request context from the client address ip.
func from(ip string) context.Context {
	return reqctx.With(context.Background(), reqctx.Info{ClientIP: ip})
}

// wrongCode returns a well-formed code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestWrongGuessesAreCountedAtomically guesses wrong from many goroutines
// at once: no more guesses are recorded, or allowed, than the limit.
func TestWrongGuessesAreCountedAtomically(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		const phone = "13912340001"
		if _, err := env.Accounts.RequestCode(from("198.51.100.1"), phone); err != nil {
			t.Fatal(err)
		}
		code := env.LastCode(phone)
		var wg sync.WaitGroup
		for range 3 * account.MaxCodeAttempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env.Accounts.Login(from("198.51.100.1"), phone, wrongCode(code))
			}()
		}
		wg.Wait()
		lc := env.Store.Client.LoginCode.Query().Where(logincode.Phone(phone)).OnlyX(context.Background())
		if lc.Attempts > account.MaxCodeAttempts {
			t.Errorf("%d wrong guesses recorded, over the limit of %d", lc.Attempts, account.MaxCodeAttempts)
		}
		if _, _, err := env.Accounts.Login(from("198.51.100.1"), phone, code); err == nil {
			t.Error("the right code still works after the limit of wrong guesses")
		}
	})
}

// TestStrangersCannotLockAPersonOut: from another address, a stranger
// requests codes for someone's number and guesses wrong as often as the
// limits let them; the person, from their own address, still gets a code
// and signs in with it.
func TestStrangersCannotLockAPersonOut(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		const phone = "13912340002"
		victim, stranger, other := from("198.51.100.7"), from("203.0.113.9"), from("203.0.113.10")
		for range account.CodesPerHour {
			if _, err := env.Accounts.RequestCode(stranger, phone); err != nil {
				t.Fatal(err)
			}
			env.Clock = env.Clock.Add(account.CodeInterval + time.Second)
		}
		if _, err := env.Accounts.RequestCode(stranger, phone); err == nil {
			t.Fatal("the stranger's address is not limited")
		}
		if _, err := env.Accounts.RequestCode(victim, phone); err != nil {
			t.Fatalf("the stranger's requests starve the person's: %v", err)
		}
		code := env.LastCode(phone)
		// The stranger asks once more (a newer code) and guesses wrong
		// from two addresses.
		env.Clock = env.Clock.Add(account.CodeInterval + time.Second)
		env.Accounts.RequestCode(other, phone)
		for range 2 * account.MaxCodeAttempts {
			env.Accounts.Login(stranger, phone, wrongCode(code))
			env.Accounts.Login(other, phone, wrongCode(code))
		}
		token, _, err := env.Accounts.Login(victim, phone, code)
		if err != nil || !strings.HasPrefix(token, "veil_") {
			t.Errorf("the person cannot sign in with their own code: %v", err)
		}
	})
}
