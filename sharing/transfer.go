package sharing

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"entgo.io/ent/dialect"

	"veil/classification"
	"veil/ent"
	"veil/ent/consent"
	"veil/ent/user"
	"veil/fault"
	"veil/ledger"
	"veil/privacy"
	"veil/rights"
	"veil/store"
)

// errNotAccepted leaves out of a transfer a subject who has yet to accept
// the newest major policy version.
var errNotAccepted = fault.New(fault.PolicyReconsentRequired, "the newest major policy version is not accepted")

// TransferFormat names the format of a transfer file and its version.
const TransferFormat = "veil-transfer/1"

// TransferResult counts a transfer's subjects: those whose data was
// shared, and those left out because their consent does not count (a
// minor's own, which needs the guardian's) or they have yet to accept the
// newest major policy version.
type TransferResult struct{ Shared, Refused int }

// Transfer writes to w, as JSON lines, the declared classes of every
// active user whose THIRD_PARTY_SHARING consent names to, for a recipient
// that receives data on consent (an affiliate's file). Each subject is
// disclosed through Disclose, and so recorded in the sharing ledger,
// before their line is written; a subject the rules refuse is left out.
// The first line names the format, the recipient and the time.
func Transfer(ctx context.Context, c *ent.Client, drv dialect.Driver, to *Recipient, w io.Writer, now time.Time) (TransferResult, error) {
	var res TransferResult
	if to.Basis != classification.BasisConsent {
		return res, fmt.Errorf("sharing: %s receives data with its orders, not by transfer", to.Name)
	}
	// SECURITY: the operator's transfer reads as the system; what it may
	// send is decided per subject by Disclose.
	ctx = classification.AsSystem(ctx)
	ids, err := c.Consent.Query().
		Where(consent.PurposeEQ(consent.PurposeTHIRD_PARTY_SHARING), consent.Recipient(to.Name), consent.WithdrawnAtIsNil(),
			consent.HasUserWith(user.StatusNEQ(user.StatusCANCELLED), user.RoleEQ(user.RoleUser))).
		Unique(true).Order(ent.Asc(consent.FieldUserID)).Select(consent.FieldUserID).Ints(ctx)
	if err != nil {
		return res, err
	}
	bw := bufio.NewWriter(w)
	header, _ := json.Marshal(map[string]any{"format": TransferFormat, "recipient": to.Name, "generatedAt": now.Format(time.RFC3339)})
	bw.Write(append(header, '\n'))
	var line, compact bytes.Buffer
	for _, id := range ids {
		err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
			// Sharing is not an essential operation: it waits for the
			// newest major policy version to be accepted (by a minor's
			// guardian for them), as the access rule has the user wait.
			acceptor, err := privacy.Acceptor(ctx, tx.Client(), id, now)
			if err != nil {
				return err
			}
			if stale, err := ledger.NeedsReconsent(ctx, tx.Client(), id, acceptor); err != nil || stale {
				return cmp.Or(err, error(errNotAccepted))
			}
			return Disclose(ctx, tx.Client(), Disclosure{To: to, Subject: id, Classes: to.Classes}, now)
		})
		var f *fault.Error
		if errors.As(err, &f) {
			res.Refused++
			continue
		}
		if err != nil {
			return res, err
		}
		line.Reset()
		lw := bufio.NewWriter(&line)
		fmt.Fprintf(lw, `{"subjectId":%d,"classes":`, id)
		if err := rights.WriteClasses(ctx, drv, lw, id, to.Classes); err != nil {
			return res, err
		}
		lw.WriteByte('}')
		lw.Flush()
		// One line a subject: the rows' encoder ends each with a newline.
		compact.Reset()
		if err := json.Compact(&compact, line.Bytes()); err != nil {
			return res, err
		}
		compact.WriteByte('\n')
		bw.Write(compact.Bytes())
		res.Shared++
	}
	return res, bw.Flush()
}
