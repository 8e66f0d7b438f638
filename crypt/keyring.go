package crypt

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// keyFile is the on-disk form of a keyring: hex keys by id.
type keyFile struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"`
	Index   string            `json:"index"`
}

// LoadFile reads a keyring written by WriteFile.
func LoadFile(path string) (*Keyring, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f keyFile
	if err := json.Unmarshal(buf, &f); err != nil {
		return nil, fmt.Errorf("crypt: key file %s: %w", path, err)
	}
	k := &Keyring{Current: f.Current, Keys: map[string][]byte{}}
	for id, h := range f.Keys {
		if k.Keys[id], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("crypt: key %q is not hex", id)
		}
	}
	if k.Index, err = hex.DecodeString(f.Index); err != nil {
		return nil, errors.New("crypt: the index key is not hex")
	}
	return k, k.Validate()
}

// WriteFile writes the keyring to path, readable by its owner only.
func (k *Keyring) WriteFile(path string) error {
	f := keyFile{Current: k.Current, Keys: map[string]string{}, Index: hex.EncodeToString(k.Index)}
	for id, key := range k.Keys {
		f.Keys[id] = hex.EncodeToString(key)
	}
	buf, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(buf, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Generate returns a new keyring with one data key and an index key.
func Generate(now time.Time) (*Keyring, error) {
	k := &Keyring{Keys: map[string][]byte{}, Index: make([]byte, 32)}
	if _, err := rand.Read(k.Index); err != nil {
		return nil, err
	}
	if _, err := k.AddKey(now); err != nil {
		return nil, err
	}
	return k, nil
}

// AddKey adds a fresh data key, makes it current and returns its id. The
// old keys stay, to open what they sealed until rotate-key re-seals it.
func (k *Keyring) AddKey(now time.Time) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	id := "k" + now.UTC().Format("20060102T150405")
	for n := 2; k.Keys[id] != nil; n++ {
		id = fmt.Sprintf("k%s-%d", now.UTC().Format("20060102T150405"), n)
	}
	k.Keys[id], k.Current = key, id
	return id, nil
}

// reloader reloads the keyring from where it came when a value names a key
// the keyring in use lacks: another process (rotate-key -generate) added
// it, and made it current there.
var reloader struct {
	mu   sync.Mutex
	load func() (*Keyring, error)
	last time.Time
}

// ReloadFrom makes the keyring in use reload from path, at most once a
// second, when a value names a key it lacks; the reloaded keyring is used
// from then on, for sealing too, if it holds that key and validates.
func ReloadFrom(path string) {
	reloader.mu.Lock()
	defer reloader.mu.Unlock()
	reloader.load = func() (*Keyring, error) { return LoadFile(path) }
}

// reloadFor returns a keyring holding key id, reloaded, or nil.
func reloadFor(id string) *Keyring {
	reloader.mu.Lock()
	defer reloader.mu.Unlock()
	cur := Active()
	if cur == nil {
		return nil
	}
	if _, ok := cur.Keys[id]; ok {
		return cur // another goroutine reloaded it
	}
	if reloader.load == nil || time.Since(reloader.last) < time.Second {
		return nil
	}
	reloader.last = time.Now()
	k, err := reloader.load()
	if err != nil {
		return nil
	}
	// The index key is never rotated: blind indexes depend on it.
	if _, ok := k.Keys[id]; !ok || !bytes.Equal(k.Index, cur.Index) || Use(k) != nil {
		return nil
	}
	return k
}
