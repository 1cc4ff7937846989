//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bt-go/bt/metainfo"
)

// TestSignalEndsCleanly runs bt seed as a process: SIGINT and SIGTERM each
// end it cleanly, with exit status 0, once it is seeding.
func TestSignalEndsCleanly(t *testing.T) {
	bin := buildBT(t)
	data, file, _ := seedFixture(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "seed", "--no-dht", "--dir", filepath.Dir(data), "--port", "0", file)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			seeding := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				found := false
				for sc.Scan() {
					if !found && strings.HasPrefix(sc.Text(), "seeding ") {
						found = true
						seeding <- true
					}
				}
				if !found {
					seeding <- false
				}
			}()
			select {
			case ok := <-seeding:
				if !ok {
					cmd.Wait()
					t.Fatalf("bt seed ended before seeding: %s", stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("bt seed never said it was seeding: %s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("after %v: %v; stderr: %s", sig, err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("bt seed did not end after %v", sig)
			}
		})
	}
}

// TestSecondSignalExitsAtOnce: while bt seed ends cleanly after a SIGINT
// (here held up by a tracker that never answers the "stopped" announce),
// a second SIGINT exits at once with status 130.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	started := make(chan struct{}, 1)
	stopping := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("event") == "stopped" {
			select {
			case stopping <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "d8:intervali1800e5:peers0:e")
		select {
		case started <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	defer close(release)

	bin := buildBT(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(data, bytes.Repeat([]byte("signal"), 10_000), 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Create(context.Background(), data, metainfo.CreateOptions{PieceLength: 16 << 10, Trackers: [][]string{{srv.URL + "/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "data.torrent")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "seed", "--no-dht", "--dir", dir, "--port", "0", file)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatalf("bt seed never announced: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-stopping:
	case <-time.After(30 * time.Second):
		t.Fatalf("bt seed sent no stopped announce: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		done <- err
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("after a second SIGINT: %v, want exit status 130; stderr: %s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted twice") {
			t.Errorf("stderr: %q", stderr.String())
		}
	case <-time.After(3 * time.Second): // the stopped announce alone holds it for 5 s
		t.Fatalf("bt seed did not exit at once after a second SIGINT")
	}
}
