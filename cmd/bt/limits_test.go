package main

import (
	"context"
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	for s, want := range map[string]int64{
		"0": 0, "2048": 2048, "500k": 500 << 10, "500K": 500 << 10, "10M": 10 << 20, "1.5MiB/s": 3 << 19,
		"1G": 1 << 30, "64KB": 64 << 10, "100B/s": 100,
	} {
		if got, err := parseRate(s); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "fast", "-1", "10X", "1e30"} {
		if got, err := parseRate(s); err == nil {
			t.Errorf("parseRate(%q) = %d, want an error", s, got)
		}
	}
}

func TestLimitFlagsRejected(t *testing.T) {
	t.Cleanup(resetLimitFlags)
	dir := t.TempDir()
	_, err := execute(t, context.Background(), "download", "--dir", dir, "--max-down", "fast", "x.torrent")
	if err == nil || !strings.Contains(err.Error(), "--max-down") {
		t.Fatalf("bt download --max-down fast: %v", err)
	}
	_, err = execute(t, context.Background(), "seed", "--dir", dir, "--max-peers", "-3", "x.torrent")
	if err == nil || !strings.Contains(err.Error(), "--max-peers") {
		t.Fatalf("bt seed --max-peers -3: %v", err)
	}
}

// resetLimitFlags puts the limit flags of every command back to their
// defaults: rootCmd is shared by the package's tests.
func resetLimitFlags() {
	for _, c := range rootCmd.Commands() {
		for _, name := range []string{"max-down", "max-up", "max-peers"} {
			if f := c.Flags().Lookup(name); f != nil {
				f.Value.Set(f.DefValue)
				f.Changed = false
			}
		}
	}
}
