// Package gid makes Veil's global IDs opaque: every ID a GraphQL client
// sees or sends is a row ID sealed with a key of the keyring
// (crypt.Keyring.SealID), base64url-encoded in 22 characters. A client can
// neither read the type of a row from its ID nor guess another row's ID;
// an ID that does not open is VALIDATION_FAILED. gqlgen binds the ID
// scalar to MarshalID and UnmarshalID (gqlgen.yml).
package gid

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"veil/crypt"
	"veil/fault"
)

// encodedLen is the length of an encoded ID: 16 bytes in base64url.
var encodedLen = base64.RawURLEncoding.EncodedLen(16)

// Encode returns the opaque form of row ID id under the active keyring.
func Encode(id int) (string, error) {
	k := crypt.Active()
	if k == nil {
		return "", crypt.ErrNoKeyring
	}
	sealed, err := k.SealID(int64(id))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed[:]), nil
}

// Decode returns the row ID of an opaque ID, or a VALIDATION_FAILED error
// that does not repeat the input.
func Decode(s string) (int, error) {
	k := crypt.Active()
	if k == nil {
		return 0, crypt.ErrNoKeyring
	}
	var sealed [16]byte
	if len(s) != encodedLen {
		return 0, ErrInvalid
	}
	// Strict: one ID has one spelling (no stray bits in the last character).
	if n, err := base64.RawURLEncoding.Strict().Decode(sealed[:], []byte(s)); err != nil || n != len(sealed) {
		return 0, ErrInvalid
	}
	id, err := k.OpenID(sealed)
	if err != nil || int64(int(id)) != id {
		return 0, ErrInvalid
	}
	return int(id), nil
}

// ErrInvalid is the error of an ID that does not open: VALIDATION_FAILED,
// naming the argument or variable it was given in (graph's presenter).
var ErrInvalid = fault.New(fault.ValidationFailed, "not a valid ID")

// MarshalID writes a row ID as its opaque form (gqlgen scalar ID).
func MarshalID(id int) graphql.Marshaler {
	s, err := Encode(id)
	if err != nil {
		// No keyring: the field fails (gqlgen recovers it as INTERNAL);
		// the raw ID is never served instead.
		panic(fmt.Errorf("gid: %w", err))
	}
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, `"`+s+`"`)
	})
}

// UnmarshalID reads an opaque ID sent by a client (gqlgen scalar ID).
func UnmarshalID(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, ErrInvalid
	}
	return Decode(s)
}
