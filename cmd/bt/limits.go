package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
)

// limitFlags are the rate and connection limits of the commands that
// transfer data.
type limitFlags struct {
	maxDown, maxUp string
	maxPeers       int
	enc            encryptionFlag // --encryption (encryption.go)
}

func (f *limitFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.maxDown, "max-down", "0", `download rate limit in bytes per second, e.g. "500k", "10M" (binary units; 0: none)`)
	cmd.Flags().StringVar(&f.maxUp, "max-up", "0", `upload rate limit in bytes per second, e.g. "500k", "10M" (binary units; 0: none)`)
	cmd.Flags().IntVar(&f.maxPeers, "max-peers", 0, "most peers to connect to at once (0: the default, 80)")
	f.enc.register(cmd)
}

// configure puts the limits into a client's configuration.
func (f *limitFlags) configure(cfg *bt.Config) error {
	rate := func(s string) (int64, error) {
		if s == "" {
			return 0, nil
		}
		return parseRate(s)
	}
	down, err := rate(f.maxDown)
	if err != nil {
		return fmt.Errorf("--max-down: %w", err)
	}
	up, err := rate(f.maxUp)
	if err != nil {
		return fmt.Errorf("--max-up: %w", err)
	}
	if f.maxPeers < 0 {
		return fmt.Errorf("--max-peers %d is negative", f.maxPeers)
	}
	cfg.MaxDownloadRate, cfg.MaxUploadRate = down, up
	cfg.MaxConnsPerTorrent = f.maxPeers
	return f.enc.configure(cfg)
}

// parseRate parses a rate in bytes per second: a number with an optional
// binary unit, "k"/"K"/"KiB"/"KB" (1024), "M" (1024²) or "G" (1024³), an
// optional "B" and an optional "/s": "500k", "10M", "1.5MiB/s", "2048".
func parseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "/s")
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "i")
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("%q is not a rate like 500k or 10M", s)
	}
	return int64(v * mult), nil
}
