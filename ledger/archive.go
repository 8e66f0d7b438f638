package ledger

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"veil/ent"
	"veil/ent/consent"
	"veil/ent/policyversion"
	"veil/ent/predicate"
)

// clauseStart finds a clause id where a clause begins in the policy's
// English text: a heading "## P7 ..." or a bullet "- **P3.1 ...".
var clauseStart = regexp.MustCompile(`^(?:#+ |- \*\*)(P\d+(?:\.\d+[a-z]?)?)\b`)

// Clauses splits a policy text with clause ids into its clauses: id ->
// the clause's text, up to the next clause (a heading's text excludes
// its sub-clauses). A text without ids has none.
func Clauses(text string) map[string]string {
	out := map[string]string{}
	id := ""
	var b strings.Builder
	flush := func() {
		if id != "" {
			out[id] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	for _, line := range strings.Split(text, "\n") {
		if m := clauseStart.FindStringSubmatch(line); m != nil {
			flush()
			id = m[1]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	flush()
	return out
}

// paragraphs are a text's non-empty lines, spaces trimmed.
func paragraphs(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out[line] = true
		}
	}
	return out
}

// Changes summarises what changed from the text before to the text after:
// by clause id where the texts have ids (added, removed, changed), else
// by paragraph (how many added and removed). The first version has no
// changes to tell ("first published version").
func Changes(before, after string) string {
	if before == "" {
		return "first published version"
	}
	cb, ca := Clauses(before), Clauses(after)
	if len(cb) > 0 && len(ca) > 0 {
		var added, removed, changed []string
		for id, text := range ca {
			switch old, ok := cb[id]; {
			case !ok:
				added = append(added, id)
			case old != text:
				changed = append(changed, id)
			}
		}
		for id := range cb {
			if _, ok := ca[id]; !ok {
				removed = append(removed, id)
			}
		}
		if len(added)+len(removed)+len(changed) == 0 {
			return "no clause changed"
		}
		var parts []string
		for _, p := range []struct {
			what string
			ids  []string
		}{{"changed", changed}, {"added", added}, {"removed", removed}} {
			if len(p.ids) > 0 {
				sort.Slice(p.ids, func(i, j int) bool { return clauseLess(p.ids[i], p.ids[j]) })
				parts = append(parts, p.what+": "+strings.Join(p.ids, ", "))
			}
		}
		return "clauses " + strings.Join(parts, "; ")
	}
	pb, pa := paragraphs(before), paragraphs(after)
	added, removed := 0, 0
	for p := range pa {
		if !pb[p] {
			added++
		}
	}
	for p := range pb {
		if !pa[p] {
			removed++
		}
	}
	if added+removed == 0 {
		return "no paragraph changed"
	}
	return fmt.Sprintf("%d paragraphs added or rewritten, %d removed or rewritten", added, removed)
}

// clauseLess orders clause ids by their numbers: P2 < P3.1 < P3.10.
func clauseLess(a, b string) bool {
	na, nb := clauseNumbers(a), clauseNumbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return a < b
}

func clauseNumbers(id string) []int {
	var out []int
	for _, part := range strings.Split(strings.TrimPrefix(id, "P"), ".") {
		n := 0
		for _, r := range part {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		out = append(out, n)
	}
	return out
}

// Notice is what a user is told of the policy: every version published
// since the newest they accepted, and whether they must accept before
// non-essential operations (a major version among them).
type Notice struct {
	// Version is the newest version; Unaccepted every version since the
	// user's newest accepted one, oldest first, Version included, so that
	// what a later minor version says does not hide an earlier major one.
	Version    *ent.PolicyVersion
	Unaccepted []*ent.PolicyVersion
	MustAccept bool
}

// NoticeFor returns subjectID's notice, or nil when they (or, with
// acceptor not 0, their guardian acceptor) accepted the newest version.
func NoticeFor(ctx context.Context, c *ent.Client, subjectID, acceptor int) (*Notice, error) {
	preds := []predicate.Consent{consent.UserID(subjectID), consent.PurposeEQ(consent.PurposeACCOUNT), consent.WithdrawnAtIsNil()}
	if acceptor != 0 {
		preds = append(preds, consent.GrantedBy(acceptor))
	}
	accepted, err := c.Consent.Query().Where(preds...).Select(consent.FieldPolicyVersion).Strings(ctx)
	if err != nil {
		return nil, err
	}
	q := c.PolicyVersion.Query()
	if len(accepted) > 0 {
		last, err := c.PolicyVersion.Query().Where(policyversion.VersionIn(accepted...)).
			Order(ent.Desc(policyversion.FieldPublishedAt)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if last != nil {
			q.Where(policyversion.PublishedAtGT(last.PublishedAt))
		}
	}
	since, err := q.Order(ent.Asc(policyversion.FieldPublishedAt)).All(ctx)
	if err != nil || len(since) == 0 {
		return nil, err
	}
	must, err := NeedsReconsent(ctx, c, subjectID, acceptor)
	if err != nil {
		return nil, err
	}
	return &Notice{Version: since[len(since)-1], Unaccepted: since, MustAccept: must}, nil
}
