// Package peertest starts real BitTorrent implementations on 127.0.0.1 for
// bt's interoperability tests: libtorrent (through its Python bindings),
// Transmission, aria2 and opentracker, all from Debian packages.
//
// A test that needs one calls the matching Require function (or a Start
// function, which calls it). When the tool is missing the test is skipped on
// a developer's machine but fails when the environment variable CI is set, so
// a skip can never hide a missing install step in .ci/run.
//
// Every process started here belongs to the test that started it and is
// killed by t.Cleanup. Nothing here talks to any address but loopback.
package peertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// PythonPath is the interpreter with Debian's libtorrent bindings. Another
// python3 earlier on PATH may not be able to import them.
const PythonPath = "/usr/bin/python3"

// InCI reports whether the tests run under CI, where a missing tool is a
// failure rather than a reason to skip.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI requires this real peer: "+format, args...)
	}
	t.Skipf("skipping: "+format+" (install it, see .ci/run)", args...)
}

// Unavailable skips the test because something it needs is not available
// on this machine (IPv6 loopback, the privilege to mount a file system), or
// fails it under CI, where the tests run as root on a machine that has all
// they need: a skip there would hide untested work.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI requires this: "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// RequireIPv6Loopback skips the test (or fails it under CI) unless a TCP
// and a UDP socket can listen on ::1.
func RequireIPv6Loopback(t testing.TB) {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		Unavailable(t, "no IPv6 loopback: %v", err)
		return
	}
	l.Close()
	u, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		Unavailable(t, "no IPv6 loopback (UDP): %v", err)
		return
	}
	u.Close()
}

var (
	ltOnce sync.Once
	ltErr  error
)

// RequireLibtorrent skips the test (or fails it under CI) unless
// /usr/bin/python3 can import libtorrent.
func RequireLibtorrent(t testing.TB) {
	t.Helper()
	ltOnce.Do(func() {
		ltErr = exec.Command(PythonPath, "-c", "import libtorrent").Run()
	})
	if ltErr != nil {
		missing(t, "%s cannot import libtorrent (Debian package python3-libtorrent): %v", PythonPath, ltErr)
	}
}

// RequireCommand skips the test (or fails it under CI) unless the named
// program is on PATH, and returns its full path.
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s not found on PATH", name)
	}
	return p
}

// FreePort returns a port that is free for both TCP and UDP on 127.0.0.1 at
// the moment of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("peertest: free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("peertest: no port free for both TCP and UDP")
	return 0
}

// WriteRandomFile writes size bytes of pseudo-random data to path, creating
// parent directories. The content depends only on the file's base name and
// size, so a test can write the same file twice.
func WriteRandomFile(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var seed [32]byte
	copy(seed[:], filepath.Base(path))
	rng := rand.NewChaCha8(seed)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		rng.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			t.Fatal(err)
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// SameFiles fails the test unless every regular file under want exists under
// got with the same content (byte for byte).
func SameFiles(t testing.TB, want, got string) {
	t.Helper()
	for _, d := range compareTrees(t, want, got) {
		t.Error(d)
	}
}

// WaitSameFiles is SameFiles for files another client is still writing: it
// waits up to timeout for got to match want before failing. Transmission
// and aria2 write as they go, and libtorrent 2.0 hashes blocks from its
// store buffer and may report a torrent finished (or seeding) before its
// disk thread has written every file.
func WaitSameFiles(t testing.TB, want, got string, timeout time.Duration) {
	t.Helper()
	for _, d := range waitTrees(t, want, got, timeout) {
		t.Error(d)
	}
}

// waitTrees polls until got matches want, or timeout passes; it returns
// the differences that remain.
func waitTrees(t testing.TB, want, got string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		diffs := compareTrees(t, want, got)
		if len(diffs) == 0 || time.Now().After(deadline) {
			return diffs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compareTrees lists how the regular files under got differ from those
// under want.
func compareTrees(t testing.TB, want, got string) []string {
	t.Helper()
	var diffs []string
	err := filepath.WalkDir(want, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		switch {
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("missing %s: %v", rel, err))
		case string(a) != string(b):
			diffs = append(diffs, fmt.Sprintf("%s differs (%d vs %d bytes)", rel, len(a), len(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return diffs
}
