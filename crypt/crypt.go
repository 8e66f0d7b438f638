// Package crypt encrypts sensitive values at rest (DESIGN.md, storage):
// AES-256-GCM, each value tagged with the id of the key that sealed it and
// bound to its column, so keys can be rotated value by value; and keyed
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

// Prefix starts every ciphertext: "v1:<key id>:<base64 nonce||sealed>".
const Prefix = "v1:"

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

// Seal encrypts plaintext for column (the additional data that binds the
// ciphertext to it) under the current key.
func (k *Keyring) Seal(column, plaintext string) (string, error) {
	gcm, err := k.aead(k.Current)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := gcm.Seal(nonce, nonce, []byte(plaintext), []byte(column))
	return Prefix + k.Current + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value of column. A value without the prefix is a legacy
// plaintext, returned as it is (rotate-key encrypts those).
func (k *Keyring) Open(column, value string) (string, error) {
	if !strings.HasPrefix(value, Prefix) {
		return value, nil
	}
	id, body, ok := strings.Cut(value[len(Prefix):], ":")
	if !ok {
		return "", errors.New("crypt: malformed ciphertext")
	}
	gcm, err := k.aead(id)
	if err != nil {
		return "", err
	}
	sealed, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(sealed) < gcm.NonceSize() {
		return "", errors.New("crypt: malformed ciphertext")
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(column))
	if err != nil {
		return "", errors.New("crypt: ciphertext does not authenticate (wrong key or column, or tampered)")
	}
	return string(plain), nil
}

// KeyID returns the id of the key that sealed value, or "" for plaintext.
func KeyID(value string) string {
	if !strings.HasPrefix(value, Prefix) {
		return ""
	}
	id, _, _ := strings.Cut(value[len(Prefix):], ":")
	return id
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

// String is the ValueScanner of an encrypted string field of column
// ("table.column").
func String(column string) field.ValueScannerFunc[string, *sql.NullString] {
	return field.ValueScannerFunc[string, *sql.NullString]{
		V: func(s string) (driver.Value, error) {
			k := Active()
			if k == nil {
				return nil, ErrNoKeyring
			}
			return k.Seal(column, s)
		},
		S: func(ns *sql.NullString) (string, error) {
			if !ns.Valid {
				return "", nil
			}
			k := Active()
			if k == nil {
				return "", ErrNoKeyring
			}
			return k.Open(column, ns.String)
		},
	}
}

// Float is the ValueScanner of an encrypted float field of column.
func Float(column string) field.ValueScannerFunc[float64, *sql.NullString] {
	return field.ValueScannerFunc[float64, *sql.NullString]{
		V: func(f float64) (driver.Value, error) {
			k := Active()
			if k == nil {
				return nil, ErrNoKeyring
			}
			return k.Seal(column, strconv.FormatFloat(f, 'g', -1, 64))
		},
		S: func(ns *sql.NullString) (float64, error) {
			if !ns.Valid {
				return 0, nil
			}
			k := Active()
			if k == nil {
				return 0, ErrNoKeyring
			}
			s, err := k.Open(column, ns.String)
			if err != nil {
				return 0, err
			}
			return strconv.ParseFloat(s, 64)
		},
	}
}
