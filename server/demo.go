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
	users := fs.Int("users", 0, "also generate this many users for scale tests")
	ordersPerUser := fs.Int("orders-per-user", 10, "orders of each generated user")
	activityPerUser := fs.Int("activity-per-user", 100, "activity events of each generated user")
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
	defer a.Store.Close()
	world, err := seed.Demo(ctx, a.Store.Client, a.Accounts, time.Now())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if *users > 0 {
		start := time.Now()
		opts := seed.ScaleOptions{Users: *users, OrdersPerUser: *ordersPerUser, ActivityPerUser: *activityPerUser,
			Progress: progress("generating users")}
		if err := seed.Scale(ctx, a.Store.Client, opts, time.Now()); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\ngenerated %d users, %d orders, %d activity events in %v\n", *users,
			*users**ordersPerUser, *users**activityPerUser, time.Since(start).Round(time.Second))
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
