//go:build unix

package main

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCatIntoHead: `bt cat … | head -c 100` ends quietly when head has
// read its fill and gone: no message, the status cat has after SIGPIPE
// (141), and its temporary download directory removed.
func TestCatIntoHead(t *testing.T) {
	bin := buildBT(t)
	_, file, port := seedFixtureNamed(t, "big.bin", 2<<20)
	tmp := t.TempDir()
	cmd := exec.Command(bin, "cat", "--no-dht", "--port", "0", "--max-down", "256K",
		"--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(out, head); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("reading the first 100 bytes: %v; stderr: %s", err, stderr.String())
	}
	out.Close() // head exits
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("bt cat went on after its reader left")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 141 {
		t.Errorf("bt cat after its reader left: %v, want exit status 141", err)
	}
	if strings.Contains(stderr.String(), "bt:") || strings.Contains(stderr.String(), "signal") {
		t.Errorf("stderr: %q", stderr.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("bt cat left %s in its temporary directory", left[0].Name())
	}
}

// TestSecondProcessRefused: while one bt download runs, a second one of
// the same torrent into the same directory, or with the same state
// directory, is refused with the first one's process id; once the first
// has ended, the same command works.
func TestSecondProcessRefused(t *testing.T) {
	bin := buildBT(t)
	_, file, port := seedFixtureNamed(t, "slow.bin", 1<<20)
	peer := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()
	dir, state := t.TempDir(), t.TempDir()
	first := exec.Command(bin, "download", "--no-dht", "--port", "0", "--max-down", "16K", "--state-dir", state,
		"--dir", dir, "--peer", peer, file)
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Process.Kill()
		first.Wait()
	}()
	// The first plain status line comes once it is downloading.
	if !bufio.NewScanner(out).Scan() {
		t.Fatal("the first bt download printed nothing")
	}
	go io.Copy(io.Discard, out)
	want := "slow.bin is already being downloaded by process " + strconv.Itoa(first.Process.Pid)
	for _, args := range [][]string{
		{"--state-dir", "", "--dir", dir},                    // the same download directory
		{"--state-dir", state, "--dir", t.TempDir()},         // the same state directory
		{"--state-dir", t.TempDir(), "--dir", dir, "--seed"}, // the same directory again
	} {
		second := exec.Command(bin, append(append([]string{"download", "--no-dht", "--port", "0", "--peer", peer}, args...), file)...)
		b, err := second.CombinedOutput()
		if err == nil || !strings.Contains(string(b), want) {
			t.Errorf("a second bt download %v: %v, %q; want %q", args, err, b, want)
		}
	}
	first.Process.Signal(syscall.SIGINT)
	first.Wait()
	b, err := exec.Command(bin, "download", "--no-dht", "--port", "0", "--state-dir", state, "--dir", dir, "--peer", peer, file).CombinedOutput()
	if err != nil {
		t.Errorf("the same download after the first one stopped: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "slow.bin")); err != nil {
		t.Error(err)
	}
}

// TestDownloadInterrupted: through a pipe, bt download's status lines each
// name the torrent and show no rate before there is one; Ctrl-C stops it
// with exit status 130 and says how to resume.
func TestDownloadInterrupted(t *testing.T) {
	bin := buildBT(t)
	_, file, port := seedFixtureNamed(t, "slow.bin", 1<<20)
	cmd := exec.Command(bin, "download", "--no-dht", "--port", "0", "--max-down", "16K", "--state-dir", t.TempDir(),
		"--dir", t.TempDir(), "--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		cmd.Wait()
		t.Fatalf("no status line; stderr: %s", stderr.String())
	}
	line := sc.Text()
	if !strings.HasPrefix(line, "slow.bin: ") || !strings.Contains(line, "%, ") || strings.Contains(line, " 0 B/s") || strings.Contains(line, ":  ") {
		t.Errorf("status line %q", line)
	}
	go io.Copy(io.Discard, out)
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("after Ctrl-C: %v, want exit status 130", err)
	}
	if got := strings.TrimSpace(stderr.String()); got != "bt: stopped; run the same command again to resume" {
		t.Errorf("stderr %q", got)
	}
}

// TestDefaultStateDirUnusable: when the default state directory cannot be
// made (here under /proc, which not even root can write in), the download
// says once, at the start, that it will not be resumable, and completes.
func TestDefaultStateDirUnusable(t *testing.T) {
	bin := buildBT(t)
	_, file, port := seedFixtureNamed(t, "small.bin", 256<<10)
	dir := t.TempDir()
	cmd := exec.Command(bin, "download", "--no-dht", "--port", "0", "--dir", dir,
		"--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+unwritableDir(t))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bt download: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "this download will not be resumable"); n != 1 {
		t.Errorf("the warning came %d times, want once; stderr:\n%s", n, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "small.bin")); err != nil {
		t.Error(err)
	}
}
