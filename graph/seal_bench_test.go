package graph_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"veil/classification"
	"veil/collect"
	"veil/seed"
	"veil/veiltest"
)

// BenchmarkEncryptedWrites measures writes of encrypted rows through the
// production paths: a batch of 100 address-book entries and one location,
// on SQLite and (when configured) PostgreSQL. Each created row costs one
// more statement since values are sealed to their rows (store.SealRows).
func BenchmarkEncryptedWrites(b *testing.B) {
	stores := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "veil.db")}
	if base := os.Getenv(veiltest.PostgresEnv); base != "" {
		stores["postgres"] = veiltest.FreshPostgresSchema(b, base)
	}
	for name, url := range stores {
		env := veiltest.New(b, url)
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			b.Fatal(err)
		}
		adult := w.Users["adult"].ID
		batch := make([]*collect.ContactInput, 100)
		for i := range batch {
			batch[i] = &collect.ContactInput{Name: fmt.Sprintf("联系人%d", i), Phone: fmt.Sprintf("1391234%04d", i)}
		}
		b.Run(name+"/contacts-100", func(b *testing.B) {
			for b.Loop() {
				if _, err := collect.UploadContacts(ctx, env.Store.Client, adult, batch, env.Clock); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/location", func(b *testing.B) {
			for b.Loop() {
				if _, err := collect.RecordLocation(ctx, env.Store.Client, adult, collect.LocationInput{Latitude: 31.2, Longitude: 121.5}, env.Clock); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
