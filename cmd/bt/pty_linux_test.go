package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bt-go/bt/internal/peertest"
)

// openPTY opens a pseudo-terminal pair: the controlling side we read, and
// the terminal side a process writes to.
func openPTY(t *testing.T) (ctl, term *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ctl.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		ctl.Close()
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ctl.Fd()), unix.TIOCGPTN)
	if err != nil {
		ctl.Close()
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ctl.Close()
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	return ctl, term
}

// TestDownloadProgressBarOnTerminal: on a terminal, bt download draws a
// progress bar redrawn in place (carriage returns, percent, rates, the
// torrent's name) and still ends with its completion line; on a pipe it
// writes plain lines (TestDownloadCommand).
func TestDownloadProgressBarOnTerminal(t *testing.T) {
	bin := buildBT(t)
	data, file, port := seedFixture(t)
	dst := filepath.Join(t.TempDir(), "dl")
	ctl, term := openPTY(t)
	defer ctl.Close()

	// A slow download, so that the bar is drawn more than once.
	cmd := exec.Command(bin, "download", "--no-dht", "--dir", dst, "--port", "0", "--max-down", "32K",
		"--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	cmd.Stdout = term
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close() // the child has its own copy
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, ctl) // ends with EIO once the child has exited
		close(read)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("download: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("bt download did not finish")
	}
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal was not closed")
	}
	got := out.String()
	t.Logf("the terminal showed %d redraws; the last: %q", strings.Count(got, "\r"), lastRedraw(got))
	// The line and the bar describe the same moment.
	if m := regexp.MustCompile(`(\d+)\.\d%.*\s(\d+)% \|`).FindStringSubmatch(lastRedraw(got)); m == nil {
		t.Errorf("no line and bar in the last redraw %q", lastRedraw(got))
	} else if a, b := atoi(m[1]), atoi(m[2]); a-b > 1 || b-a > 1 {
		t.Errorf("the line says %d%% and the bar %d%%", a, b)
	}
	for _, want := range []string{"\r", "%", "/s", "pack", "complete"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, got)
		}
	}
	if strings.Count(got, "\r") < 2 {
		t.Errorf("the bar was drawn %d times, want it redrawn:\n%q", strings.Count(got, "\r"), got)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
}

// lastRedraw returns the last non-blank line drawn over with carriage
// returns before the end of out.
func lastRedraw(out string) string {
	parts := strings.Split(out, "\r")
	for i := len(parts) - 1; i >= 0; i-- {
		if p := strings.TrimSpace(parts[i]); p != "" && strings.Contains(p, "%") {
			return p
		}
	}
	return ""
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
