package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"veil/seed"
)

// demo seeds the demo personas into the configured store and writes
// persona -> bearer token JSON to the -tokens file.
func demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	tokensPath := fs.String("tokens", "", "write persona -> bearer token JSON to this file (required)")
	cfg, err := parseConfig(fs, args)
	if err != nil {
		return err
	}
	if *tokensPath == "" {
		return errors.New("demo: -tokens FILE is required")
	}
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.store.Close()
	world, err := seed.Demo(ctx, a.store.Client, a.accounts, time.Now())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	buf, err := json.MarshalIndent(world.Tokens, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*tokensPath, append(buf, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d personas; tokens written to %s\n", len(world.Tokens), *tokensPath)
	return nil
}
