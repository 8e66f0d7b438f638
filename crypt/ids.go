package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"sync"
)

// ErrBadID is returned for an opaque ID this keyring did not issue.
var ErrBadID = errors.New("crypt: not an ID issued by this server")

// idCipher seals row IDs into opaque global IDs. Its key is derived from
// the index key, so every process sharing a keyring issues and accepts the
// same IDs, across restarts.
type idCipher struct {
	once  sync.Once
	block cipher.Block
	check [8]byte
	err   error
}

func (c *idCipher) init(index []byte) {
	c.once.Do(func() {
		derive := func(label string) []byte {
			m := hmac.New(sha256.New, index)
			m.Write([]byte(label))
			return m.Sum(nil)
		}
		c.block, c.err = aes.NewCipher(derive("veil global id key v1"))
		copy(c.check[:], derive("veil global id check v1"))
	})
}

// SealID returns the 16-byte opaque form of a row ID: the ID and a secret
// check value, enciphered as one AES-256 block. The same ID always seals
// the same way (IDs are stable); nobody without the key can tell the type
// of a row from it, find a neighbour's, or make one that opens.
func (k *Keyring) SealID(id int64) ([16]byte, error) {
	var out [16]byte
	k.ids.init(k.Index)
	if k.ids.err != nil {
		return out, k.ids.err
	}
	var plain [16]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(id))
	copy(plain[8:], k.ids.check[:])
	k.ids.block.Encrypt(out[:], plain[:])
	return out, nil
}

// OpenID returns the row ID sealed by SealID, or ErrBadID. A forged or
// altered block deciphers to a random one, whose check value matches with
// a chance of 2^-64.
func (k *Keyring) OpenID(sealed [16]byte) (int64, error) {
	k.ids.init(k.Index)
	if k.ids.err != nil {
		return 0, k.ids.err
	}
	var plain [16]byte
	k.ids.block.Decrypt(plain[:], sealed[:])
	if subtle.ConstantTimeCompare(plain[8:], k.ids.check[:]) != 1 {
		return 0, ErrBadID
	}
	id := int64(binary.BigEndian.Uint64(plain[:8]))
	if id <= 0 {
		return 0, ErrBadID
	}
	return id, nil
}
