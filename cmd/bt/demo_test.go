package main

import (
	"bytes"
	"context"
	"os"
	"strings"
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
