//go:build unix

package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
