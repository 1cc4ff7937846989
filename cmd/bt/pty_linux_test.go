package main

import (
	"bytes"
	"context"
	"fmt"
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

	"golang.org/x/sys/unix"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
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

// TestDownloadProgressBarOnTerminal: on a terminal of 80 and of 50
// columns, bt download redraws one status line in place (carriage
// returns) that fits the terminal, shortening a 70-character name, with one
// percent, "1 peer", and ends with its summary; on a pipe it writes plain
// lines (TestDownloadCommand).
func TestDownloadProgressBarOnTerminal(t *testing.T) {
	bin := buildBT(t)
	name := strings.Repeat("a-rather-long-torrent-name-", 3)[:66] + ".iso" // 70 characters
	data, file, port := seedFixtureNamed(t, name, 160_000)
	for _, cols := range []int{80, 50} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dl")
			ctl, term := openPTY(t)
			defer ctl.Close()
			if err := unix.IoctlSetWinsize(int(term.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: uint16(cols)}); err != nil {
				t.Skipf("setting the terminal's size: %v", err)
			}
			// A slow download, so that the line is drawn more than once.
			cmd := exec.Command(bin, "download", "--no-dht", "--state-dir", "", "--dir", dst, "--port", "0", "--max-down", "32K",
				"--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
			cmd.Stdout = term
			var stderr strings.Builder
			cmd.Stderr = &stderr
			got := runOnPTY(t, cmd, ctl, term)
			if stderr.Len() > 0 {
				t.Errorf("stderr: %q", stderr.String())
			}
			status, summary, _ := strings.Cut(got, "\r\x1b[K"+name+": complete")
			redraws := strings.Split(status, "\r")
			t.Logf("%d redraws; the last: %q; then %q", len(redraws), lastRedraw(status), summary)
			if len(redraws) < 3 {
				t.Errorf("the line was drawn %d times, want it redrawn:\n%q", len(redraws), got)
			}
			if strings.Contains(status, "\n") {
				t.Errorf("the status line scrolled (a newline before the summary):\n%q", status)
			}
			for _, r := range redraws {
				r = strings.TrimSuffix(r, "\x1b[K")
				if r == "" {
					continue
				}
				if w := width(r); w >= cols {
					t.Errorf("a line of %d columns on a terminal of %d: %q", w, cols, r)
				}
				if strings.Count(r, "%") > 1 || strings.Count(r, "ETA") > 1 {
					t.Errorf("two percents or times left in %q", r)
				}
				if strings.Contains(r, "1 peers") {
					t.Errorf("%q", r)
				}
				if strings.Contains(r, "%") && !strings.Contains(r, "…") {
					t.Errorf("the 70-character name was not shortened: %q", r)
				}
			}
			if cols == 80 && !strings.Contains(lastRedraw(status), "1 peer") {
				t.Errorf("the last redraw %q does not show the peer", lastRedraw(status))
			}
			for _, want := range []string{"156.2 KiB", "downloaded", "saved in", filepath.Join(dst, name)} {
				if !strings.Contains(summary, want) {
					t.Errorf("the summary lacks %q:\n%s", want, summary)
				}
			}
			peertest.SameFiles(t, data, filepath.Join(dst, name))
		})
	}
}

// runOnPTY runs cmd with its output on the terminal side of a
// pseudo-terminal and returns what the terminal showed.
func runOnPTY(t *testing.T, cmd *exec.Cmd, ctl, term *os.File) string {
	t.Helper()
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
			t.Fatalf("%v: %v", cmd.Args[1], err)
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("bt %s did not finish", cmd.Args[1])
	}
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal was not closed")
	}
	// The terminal turns "\n" into "\r\n".
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// seedFixtureNamed makes a single file of size bytes called name, its
// .torrent, and a library client seeding it on 127.0.0.1.
func seedFixtureNamed(t *testing.T, name string, size int64) (data, torrentFile string, port int) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "seed", name)
	peertest.WriteRandomFile(t, data, size)
	mi, err := metainfo.Create(context.Background(), data, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	torrentFile = filepath.Join(dir, "x.torrent")
	if err := os.WriteFile(torrentFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Dir(data)}); err != nil {
		t.Fatal(err)
	}
	return data, torrentFile, c.Port()
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
