// Package privacy installs Veil's privacy layer on an Ent client, in one
// call (Install), and holds the parts of it that need the generated
// client: the consent check on every write (consent.go), the row rule on
// every read (rows.go), and the subject facts that field decisions need
// (subjects.go). The policy itself — classes, decisions, viewers, the
// Ent annotations — is package classification, which imports nothing
// generated, so that ent/schema can use it.
//
// Both sides read the record declarations of ent/schema (ent.Records):
// whom a row is about, its counterparty, its fate under the subject's
// rights. No other code decides whom a row is about.
package privacy

import (
	"context"
	"time"

	"veil/ent"
)

// Install installs the privacy layer on c: the consent hook on every
// write, the row rule on every query, and the subject facts of GraphQL
// requests (loaded with the rows, dropped on a write). It is called
// once per client, by app.Open; a server and its baseline share one.
func Install(c *ent.Client) {
	c.Use(consentHook())
	c.Use(forgetSubjectsOnWrite)
	c.Intercept(rowRule(), announceSubjects())
}

// Serve returns the context a GraphQL request runs under: its clock (ages
// are worked out on that day), its subject loaders, and the row rule on
// every query it makes.
func Serve(ctx context.Context, c *ent.Client, now time.Time) context.Context {
	ctx = WithNow(ctx, now)
	ctx = WithSubjects(ctx, c, now)
	return context.WithValue(ctx, filterKey{}, true)
}
