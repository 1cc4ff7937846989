package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
)

// execute runs the bt command line in-process and returns its error.
func execute(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	var out syncBuffer // the command and its logger write at once (tracker_test.go)
	rootCmd.SetArgs(args)
	// cobra keeps a subcommand's context from its first execution; tests
	// execute commands many times.
	for _, c := range rootCmd.Commands() {
		c.SetContext(ctx)
	}
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	defer func() {
		rootCmd.SetOut(nil)
		rootCmd.SetErr(nil)
	}()
	err := rootCmd.ExecuteContext(ctx)
	return out.String(), err
}

// seedFixture makes data, a .torrent file for it, and a library client
// seeding it on 127.0.0.1.
func seedFixture(t *testing.T) (data, torrentFile string, port int) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "seed", "pack")
	for i, n := range []int{123_456, 40_000, 1} {
		p := filepath.Join(data, string(rune('a'+i))+".bin")
		os.MkdirAll(filepath.Dir(p), 0o755)
		b := bytes.Repeat([]byte{byte(i + 1), byte(i * 7)}, n/2+1)[:n]
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mi, err := metainfo.Create(context.Background(), data, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	torrentFile = filepath.Join(dir, "pack.torrent")
	if err := os.WriteFile(torrentFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	mi, _ = metainfo.Parse(raw)
	c, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")}); err != nil {
		t.Fatal(err)
	}
	return data, torrentFile, c.Port()
}

func TestDownloadCommand(t *testing.T) {
	data, file, port := seedFixture(t)
	dst := filepath.Join(t.TempDir(), "dl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "download", "--dir", dst, "--port", "0", "--peer",
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), "--quiet=false", file)
	if err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	if !strings.Contains(out, "complete") {
		t.Errorf("output %q does not say complete", out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
}

func TestSeedCommandIncompleteData(t *testing.T) {
	_, file, _ := seedFixture(t)
	empty := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := execute(t, ctx, "seed", "--dir", empty, "--port", "0", file)
	if err == nil || !strings.Contains(err.Error(), "only 0 of") {
		t.Fatalf("seed of missing data: %v", err)
	}
}

func TestDownloadErrors(t *testing.T) {
	_, file, _ := seedFixture(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	garbage := filepath.Join(t.TempDir(), "bad.torrent")
	os.WriteFile(garbage, []byte("not bencode"), 0o644)
	ctx := context.Background()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"download", "--bogus", file}, "unknown flag: --bogus"},
		{[]string{"download", "--dir", t.TempDir(), "--port", "0", filepath.Join(t.TempDir(), "missing.torrent")}, "does not exist"},
		{[]string{"download", "--dir", t.TempDir(), "--port", "0", garbage}, "bad.torrent"},
		{[]string{"download", "--dir", notDir, "--port", "0", file}, "not a directory"},
		{[]string{"download", "--dir", t.TempDir(), "--port", itoa(busy), file}, "already in use"},
		{[]string{"download", "--dir", t.TempDir(), "--port", "0", "--peer", "nonsense", file}, "not a HOST:PORT"},
		// A directory not even root can write in: /proc on Linux (chmod
		// does not stop the root user the tests run as).
		{[]string{"download", "--dir", unwritableDir(t), "--port", "0", file}, "is not writable"},
		{[]string{"download", "--dir", filepath.Join(unwritableDir(t), "sub"), "--port", "0", file}, "cannot be created"},
	} {
		_, err := execute(t, ctx, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		if err != nil && strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%v: error spans lines: %q", c.args, err)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// unwritableDir returns a directory the test process cannot write in, or
// skips the test where there is none.
func unwritableDir(t *testing.T) string {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc, a directory that not even root can write in")
	}
	return "/proc"
}

func TestSeedCommand(t *testing.T) {
	dir := t.TempDir()
	data, file, _ := seedFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := execute(t, ctx, "seed", "--dir", filepath.Dir(data), "--port", strconv.Itoa(port), file)
		done <- err
	}()
	mi, err := metainfo.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: dir,
		Peers: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		select {
		case err := <-done:
			t.Errorf("seed ended early: %v", err)
			wcancel()
			done <- err
		case <-wctx.Done():
		}
	}()
	err = tor.WaitComplete(wctx)
	wcancel()
	<-monitorDone
	if err != nil {
		t.Fatal(err)
	}
	peertest.SameFiles(t, data, filepath.Join(dir, "pack"))
	cancel() // the first SIGINT
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("seed ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("seed did not stop when interrupted")
	}
}
