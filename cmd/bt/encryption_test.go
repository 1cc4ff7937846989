package main

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
)

func TestEncryptionFlagRejected(t *testing.T) {
	_, err := execute(t, context.Background(), "download", "--dir", t.TempDir(), "--encryption", "sometimes", "x.torrent")
	if err == nil || !strings.Contains(err.Error(), "--encryption") {
		t.Fatalf("bt download --encryption sometimes: %v", err)
	}
}

// TestDownloadEncryptionRequired: bt download --encryption required gets a
// torrent from a seed that requires encryption too.
func TestDownloadEncryptionRequired(t *testing.T) {
	data, file, _ := seedFixture(t)
	seed, _ := seedClient(t, data, file, bt.Config{Encryption: bt.EncryptionRequired})
	dst := filepath.Join(t.TempDir(), "dl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "download", "--dir", dst, "--port", "0", "--encryption", "required", "--no-dht", "--peer",
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(seed.Port())).String(), file)
	if err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
}
