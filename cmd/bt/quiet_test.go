package main

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
)

// TestDownloadQuiet: with --quiet a successful download prints nothing.
func TestDownloadQuiet(t *testing.T) {
	data, file, port := seedFixture(t)
	dst := filepath.Join(t.TempDir(), "dl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "download", "--quiet", "--dir", dst, "--port", "0", "--peer",
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	if err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	if out != "" {
		t.Errorf("--quiet printed %q", out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
}
