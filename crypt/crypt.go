// Package crypt encrypts sensitive values at rest (DESIGN.md, storage):
// AES-256-GCM, each value tagged with the id of the key that sealed it and
// bound to its row and column, so keys can be rotated value by value and a
// value moved to another row or column does not open; and keyed
// blind indexes (HMAC-SHA256) for the equality look-ups that must not go
// through plaintext, such as the uniqueness of ID numbers.
//
// Ent fields opt in with String or Float as their ValueScanner; codegen
// refuses a string or float field of an encrypted class without one.
package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
)

// Prefix starts every ciphertext: "v2:<key id>:<base64 nonce||sealed>",
// sealed to its row (see sealed).
const Prefix = "v2:"

// legacyPrefix started the ciphertexts sealed to their column only.
const legacyPrefix = "v1:"

// Keyring holds the data keys by id, the id of the one that seals new
// values, and the key of the blind indexes.
type Keyring struct {
	Current string
	Keys    map[string][]byte
	Index   []byte

	aeads sync.Map // key id -> *keyedAEAD
	ids   idCipher
}

// Validate checks that the keyring can seal and index.
func (k *Keyring) Validate() error {
	if k == nil {
		return errors.New("crypt: no keyring")
	}
	cur, ok := k.Keys[k.Current]
	switch {
	case !ok:
		return fmt.Errorf("crypt: the current key %q is not in the keyring", k.Current)
	case len(cur) != 32:
		return errors.New("crypt: data keys must be 32 bytes (AES-256)")
	case len(k.Index) < 32:
		return errors.New("crypt: the index key must be at least 32 bytes")
	case strings.Contains(k.Current, ":"):
		return errors.New("crypt: key ids must not contain ':'")
	}
	for id, key := range k.Keys {
		if len(key) != 32 || strings.Contains(id, ":") {
			return fmt.Errorf("crypt: key %q must be 32 bytes and its id free of ':'", id)
		}
	}
	return nil
}

var active atomic.Pointer[Keyring]

// Use makes k the keyring every encrypted field uses.
func Use(k *Keyring) error {
	if err := k.Validate(); err != nil {
		return err
	}
	active.Store(k)
	return nil
}

// Active returns the keyring in use, or nil.
func Active() *Keyring { return active.Load() }

// ErrNoKeyring is returned when an encrypted value is written or read
// before a keyring is configured.
var ErrNoKeyring = errors.New("crypt: no encryption keyring configured")

// aead returns the AES-GCM instance of key id, made once per key: every
// encrypted column of every row read goes through it.
func (k *Keyring) aead(id string) (cipher.AEAD, error) {
	key, ok := k.Keys[id]
	if !ok {
		return nil, fmt.Errorf("crypt: unknown key %q", id)
	}
	if c, ok := k.aeads.Load(id); ok && bytes.Equal(c.(*keyedAEAD).key, key) {
		return c.(*keyedAEAD).aead, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k.aeads.Store(id, &keyedAEAD{key: bytes.Clone(key), aead: gcm})
	return gcm, nil
}

// keyedAEAD is a cached AES-GCM instance with the key it was made from,
// so a key replaced under the same id is never served from the cache.
type keyedAEAD struct {
	key  []byte
	aead cipher.AEAD
}

// sealed binds a ciphertext to the row and column it is stored in: the
// additional data is "table.column", a NUL and the row's ID, so a value
// moved to another column or another row no longer opens.
func sealed(column string, row int64) []byte {
	return strconv.AppendInt(append([]byte(column), 0), row, 10)
}

// Seal encrypts plaintext for row of column under the current key.
func (k *Keyring) Seal(column string, row int64, plaintext string) (string, error) {
	return k.seal(Prefix, sealed(column, row), plaintext)
}

func (k *Keyring) seal(prefix string, additional []byte, plaintext string) (string, error) {
	gcm, err := k.aead(k.Current)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, []byte(plaintext), additional)
	return prefix + k.Current + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrUnbound is returned for a value that is not sealed to its row: a
// legacy plaintext or a value sealed to its column only, before rows were
// bound. Only rotate-key opens those, to seal them to their row.
var ErrUnbound = errors.New("crypt: value not sealed to its row (see rotate-key -seal-unbound)")

// ErrTampered is returned for a ciphertext that does not authenticate.
var ErrTampered = errors.New("crypt: ciphertext does not authenticate (wrong key, column or row, or tampered)")

// Open decrypts the value of row in column. Only a value sealed to that
// very row and column opens: one copied from another row, another column,
// or written before rows were bound is refused.
func (k *Keyring) Open(column string, row int64, value string) (string, error) {
	if !strings.HasPrefix(value, Prefix) {
		return "", ErrUnbound
	}
	if row <= 0 {
		return "", errors.New("crypt: an encrypted value read without its row's ID")
	}
	return k.open(value[len(Prefix):], sealed(column, row))
}

// OpenAny decrypts the value of row in column in any form this package
// ever wrote: sealed to the row, sealed to the column only (legacyPrefix),
// or a legacy plaintext, returned as it is. Key rotation reads with it, to
// seal every value to its row; nothing else should.
func (k *Keyring) OpenAny(column string, row int64, value string) (string, error) {
	switch {
	case strings.HasPrefix(value, legacyPrefix):
		return k.open(value[len(legacyPrefix):], []byte(column))
	case strings.HasPrefix(value, Prefix):
		return k.Open(column, row, value)
	}
	return value, nil
}

func (k *Keyring) open(body string, additional []byte) (string, error) {
	id, body, ok := strings.Cut(body, ":")
	if !ok {
		return "", errors.New("crypt: malformed ciphertext")
	}
	gcm, err := k.aead(id)
	if err != nil {
		if _, known := k.Keys[id]; known {
			return "", err
		}
		// A key added since this keyring was loaded (rotate-key).
		r := reloadFor(id)
		if r == nil {
			return "", err
		}
		if gcm, err = r.aead(id); err != nil {
			return "", err
		}
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < gcm.NonceSize() {
		return "", errors.New("crypt: malformed ciphertext")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], additional)
	if err != nil {
		return "", ErrTampered
	}
	return string(plain), nil
}

// KeyID returns the id of the key that sealed value, or "" for plaintext.
func KeyID(value string) string {
	for _, p := range []string{Prefix, legacyPrefix} {
		if strings.HasPrefix(value, p) {
			id, _, _ := strings.Cut(value[len(p):], ":")
			return id
		}
	}
	return ""
}

// BlindIndex returns the keyed index of value for look-ups by equality:
// the same value in the same domain always gives the same index, and the
// index reveals nothing without the key.
func (k *Keyring) BlindIndex(domain, value string) string {
	m := hmac.New(sha256.New, k.Index)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// BlindIndex indexes value with the active keyring.
func BlindIndex(domain, value string) (string, error) {
	k := Active()
	if k == nil {
		return "", ErrNoKeyring
	}
	return k.BlindIndex(domain, value), nil
}

// TextColumn makes an encrypted field's column text on every dialect.
var TextColumn = map[string]string{dialect.Postgres: "text", dialect.SQLite: "text", dialect.MySQL: "text"}

// Column is the ValueScanner of an encrypted field of type T, named
// "table.column". It cannot seal a value to its row alone: the row's ID is
// unknown when Ent turns a new value into a column (an insert assigns it)
// and is never passed to Value. So:
//   - Value seals a new value to row 0, which no row has: a placeholder no
//     read opens. The store's sealing hook (store.SealRows) seals every
//     encrypted value a mutation sets to its row, in its transaction.
//   - FromValue opens only a Cell, which the generated decoder makes of the
//     scanned column and the row's ID (ent/template/sealed.tmpl).
type Column[T string | float64] struct{ Name string }

// String is the ValueScanner of an encrypted string field of column
// ("table.column").
func String(column string) Column[string] { return Column[string]{column} }

// Float is the ValueScanner of an encrypted float field of column.
func Float(column string) Column[float64] { return Column[float64]{column} }

// Value seals v to no row: see Column.
func (c Column[T]) Value(v T) (driver.Value, error) {
	k := Active()
	if k == nil {
		return nil, ErrNoKeyring
	}
	return k.Seal(c.Name, 0, format(v))
}

// ScanValue scans the stored text.
func (c Column[T]) ScanValue() field.ValueScanner { return new(sql.NullString) }

// FromValue opens a Cell: the scanned column and its row's ID.
func (c Column[T]) FromValue(v driver.Value) (T, error) {
	var zero T
	cell, ok := v.(Cell)
	if !ok {
		return zero, fmt.Errorf("crypt: %s read without its row (%T)", c.Name, v)
	}
	ns, ok := cell.Scanned.(*sql.NullString)
	if !ok {
		return zero, fmt.Errorf("crypt: %s scanned as %T", c.Name, cell.Scanned)
	}
	if !ns.Valid {
		return zero, nil
	}
	k := Active()
	if k == nil {
		return zero, ErrNoKeyring
	}
	plain, err := k.Open(c.Name, cell.Row, ns.String)
	if err != nil {
		return zero, fmt.Errorf("%s of row %d: %w", c.Name, cell.Row, err)
	}
	return parse[T](plain)
}

// Cell is a scanned encrypted column with the ID of its row.
type Cell struct {
	Scanned any
	Row     int64
}

// AtRow pairs a scanned encrypted column with its row's ID.
func AtRow(scanned any, row int64) Cell { return Cell{scanned, row} }

// SealValue seals v, a value of an encrypted field of column as Ent holds
// it (a string or a float64), to row.
func (k *Keyring) SealValue(column string, row int64, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return k.Seal(column, row, v)
	case float64:
		return k.Seal(column, row, format(v))
	}
	return "", fmt.Errorf("crypt: %s: cannot seal a %T", column, v)
}

func format[T string | float64](v T) string {
	if f, ok := any(v).(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return any(v).(string)
}

func parse[T string | float64](s string) (T, error) {
	var out T
	switch p := any(&out).(type) {
	case *string:
		*p = s
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			// strconv's error quotes the value.
			return out, errors.New("crypt: the value is not a number")
		}
		*p = f
	}
	return out, nil
}
