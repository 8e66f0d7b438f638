package sharing

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"

	"veil/audit"
	"veil/check"
	"veil/classification"
	"veil/ent"
	"veil/ent/notice"
	"veil/ent/user"
	"veil/fault"
	"veil/rights"
	"veil/store"
)

// DemandFormat names the format of a disclosed document and its version.
const DemandFormat = "veil-disclosure/1"

// Demand is a public authority's formal demand for a user's data: the
// GraphQL input LegalDemandInput.
type Demand struct {
	User int `json:"user"`
	// Authority names who demands it; DocumentReference the legal
	// document (its number) that makes the demand.
	Authority         string `json:"authority"`
	DocumentReference string `json:"documentReference"`
	// Classes are the class names demanded; none means every class the
	// export holds.
	Classes []string `json:"classes"`
	// RecipientKey is the authority's X25519 public key, base64: the
	// document is sealed to it (NaCl sealed box) and Veil keeps no copy.
	RecipientKey string `json:"recipientKey"`
	// NotifySubject is false when the demand forbids telling the user.
	NotifySubject bool `json:"notifySubject"`
}

// Disclosed is what answering a demand gives the auditor to hand over.
type Disclosed struct {
	// Ciphertext is the document sealed to the recipient key, base64.
	Ciphertext      string    `json:"ciphertext"`
	Classes         []string  `json:"classes"`
	SubjectNotified bool      `json:"subjectNotified"`
	DisclosedAt     time.Time `json:"disclosedAt"`
}

// DiscloseOnDemand answers a demand, as auditorID (the access rule has
// checked they declared legal_hold): in one transaction it records the
// disclosure in the audit log with the authority, the document reference
// and the classes, and, unless the demand forbids it, in the subject's
// sharing ledger with a notice to them; then it writes the subject's
// records of those classes into a document sealed to the authority's key.
func DiscloseOnDemand(ctx context.Context, c *ent.Client, drv dialect.Driver, auditorID int, in Demand, now time.Time) (*Disclosed, error) {
	var v check.Checker
	// The subject reads both in their notice: nothing may pass for
	// another authority or document.
	in.Authority = strings.TrimSpace(v.DisplayName("input.authority", in.Authority, 1, 128))
	in.DocumentReference = strings.TrimSpace(v.DisplayName("input.documentReference", in.DocumentReference, 1, 128))
	key, err := base64.StdEncoding.DecodeString(in.RecipientKey)
	if err != nil || len(key) != 32 {
		v.Fail("input.recipientKey", "must be an X25519 public key: 32 bytes, base64")
	} else if _, err := curve25519.X25519(probe(), key); err != nil {
		// A low-order point seals to a key everyone knows.
		v.Fail("input.recipientKey", "is not a usable X25519 public key: anyone could open what is sealed to it")
	}
	classes := Authority.Classes
	if len(in.Classes) > 0 {
		classes = nil
		for i, name := range in.Classes {
			cl, ok := classification.Lookup(name)
			switch {
			case !ok || !declares(Authority, cl):
				v.Fail(check.Item("input.classes", i), "not a class of the export (see dataInventory)")
			case slices.Contains(classes, cl):
				v.Fail(check.Item("input.classes", i), "is named twice")
			default:
				classes = append(classes, cl)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	subject, err := c.User.Get(ctx, in.User)
	if ent.IsNotFound(err) {
		return nil, fault.Invalid("input.user", "no such user")
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(classes))
	for i, cl := range classes {
		names[i] = cl.Name
	}
	told := "the subject is told"
	switch {
	case !in.NotifySubject:
		told = "the demand forbids telling the subject"
	case subject.Status == user.StatusCANCELLED:
		// A cancelled account reads no notice: there is no one to tell.
		in.NotifySubject = false
		told = "the account is cancelled: no one to tell"
	}
	fingerprint := sha256.Sum256(key)
	err = store.WithTx(ctx, c, func(tx *ent.Tx) error {
		if err := Disclose(ctx, tx.Client(), Disclosure{
			To: Authority, Party: "authority:" + in.Authority, Subject: subject.ID, Classes: classes,
			Confidential: !in.NotifySubject,
		}, now); err != nil {
			return err
		}
		if in.NotifySubject {
			if err := tx.Notice.Create().SetUserID(subject.ID).SetKind(notice.KindLEGAL_DISCLOSURE).SetCreatedAt(now).
				SetMessage(DisclosureNotice(now, names, in.Authority, in.DocumentReference)).
				Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx.Client(), now, audit.Entry{
			ActorID: auditorID, ActorRole: string(classification.RoleAuditor), SubjectID: subject.ID,
			Action: audit.LegalDisclosure, Purpose: string(classification.LegalHold), Class: strings.Join(names, ","),
			Detail: fmt.Sprintf("to %s under %s, sealed to the key with SHA-256 %x; %s", in.Authority, in.DocumentReference, fingerprint[:8], told),
		})
	})
	if err != nil {
		return nil, err
	}
	var doc bytes.Buffer
	w := bufio.NewWriter(&doc)
	header, _ := json.Marshal(map[string]any{
		"format": DemandFormat, "authority": in.Authority, "documentReference": in.DocumentReference,
		"subjectId": subject.ID, "generatedAt": now.Format(time.RFC3339),
	})
	w.Write(header[:len(header)-1])
	w.WriteString(`,"classes":`)
	if err := rights.WriteClasses(ctx, drv, w, subject.ID, classes); err != nil {
		return nil, err
	}
	w.WriteString("}\n")
	if err := w.Flush(); err != nil {
		return nil, err
	}
	var pub [32]byte
	copy(pub[:], key)
	sealed, err := box.SealAnonymous(nil, doc.Bytes(), &pub, rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Disclosed{Ciphertext: base64.StdEncoding.EncodeToString(sealed), Classes: names, SubjectNotified: in.NotifySubject, DisclosedAt: now}, nil
}

// DisclosureNotice is what a subject is told of a disclosure of classes
// to authority under the legal document reference, on day now.
func DisclosureNotice(now time.Time, classes []string, authority, reference string) string {
	return fmt.Sprintf("On %s we disclosed your %s to %s, as it formally demanded under %s (POLICY.md P3.3).",
		now.Format(time.DateOnly), strings.Join(classes, ", "), authority, reference)
}

// probe is a fresh X25519 private key, to test a public key with.
func probe() []byte {
	k := make([]byte, curve25519.ScalarSize)
	rand.Read(k)
	return k
}

func declares(r *Recipient, cl *classification.Class) bool {
	for _, d := range r.Classes {
		if d == cl {
			return true
		}
	}
	return false
}
