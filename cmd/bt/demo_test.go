package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemoCommand runs bt demo small: it exits 0 and leaves nothing behind.
func TestDemoCommand(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	forgetContext("demo")
	if code := run([]string{"demo", "--size", "4MiB"}); code != 0 {
		t.Fatalf("bt demo --size 4MiB exited %d", code)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("bt demo left %d entries in the temporary directory", len(ents))
	}
}

// TestDemoOutput checks what the demo says, with a rate limit that makes
// it last long enough for progress lines.
func TestDemoOutput(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := &demoFlags{size: "3MiB", leechers: 2, maxUp: "1M"}
	if err := runDemo(ctx, &out, f); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"tracker at http://127.0.0.1:", "leecher 1 complete", "leecher 2 complete",
		"all 2 leechers have the 3.0 MiB", "seed       "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []*demoFlags{{size: "lots", leechers: 2, maxUp: "0"}, {size: "1M", leechers: 0, maxUp: "0"}} {
		if err := runDemo(ctx, &out, bad); err == nil {
			t.Errorf("runDemo(%+v) accepted bad flags", *bad)
		}
	}
}

// forgetContext clears the context cobra keeps in a subcommand after its
// first execution (it would hand an earlier, cancelled context to the next
// in-process run).
func forgetContext(name string) {
	for _, c := range rootCmd.Commands() {
		if c.Name() == name {
			//lint:ignore SA1012 nil is what cobra checks for before taking the new context
			c.SetContext(nil)
		}
	}
}

// TestDemoAnnouncesOnce: each peer of the demo says "started" to the
// tracker once: the engine announces the torrent's tracker, and nothing
// else announces for it a second time.
func TestDemoAnnouncesOnce(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	h := &announceCounter{started: make(map[string]int)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := &demoFlags{size: "1MiB", leechers: 2, maxUp: "0", trackerLog: slog.New(h)}
	var out bytes.Buffer
	if err := runDemo(ctx, &out, f); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.started) != 3 {
		t.Errorf("%d peers announced started, want 3 (a seed and 2 leechers): %v", len(h.started), h.started)
	}
	for peer, n := range h.started {
		if n != 1 {
			t.Errorf("peer %s announced started %d times, want once", peer, n)
		}
	}
}

// announceCounter counts the tracker's "started" announces by peer.
type announceCounter struct {
	mu      sync.Mutex
	started map[string]int
}

func (h *announceCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *announceCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *announceCounter) WithGroup(string) slog.Handler            { return h }
func (h *announceCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "announce" {
		return nil
	}
	var peer, event string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "peer":
			peer = a.Value.String()
		case "event":
			event = a.Value.String()
		}
		return true
	})
	if event == "started" {
		h.mu.Lock()
		h.started[peer]++
		h.mu.Unlock()
	}
	return nil
}
