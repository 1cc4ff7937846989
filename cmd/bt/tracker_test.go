package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/tracker"
)

// syncBuffer is an io.Writer safe to read while the command writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startTrackerCmd runs `bt tracker args...` in-process until the test ends
// and returns its HTTP and UDP announce URLs.
func startTrackerCmd(t *testing.T, args ...string) (httpURL, udpURL string) {
	t.Helper()
	cmd := newTrackerCmd()
	var out, errOut syncBuffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bt tracker: %v", err)
		}
	})
	re := regexp.MustCompile(`(?m)^(HTTP|UDP) announce URL: +(\S+)$`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range re.FindAllStringSubmatch(out.String(), -1) {
			if m[1] == "HTTP" {
				httpURL = m[2]
			} else {
				udpURL = m[2]
			}
		}
		if httpURL != "" && udpURL != "" {
			return httpURL, udpURL
		}
		select {
		case err := <-done:
			t.Fatalf("bt tracker ended: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no announce URLs in %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTrackerCommand(t *testing.T) {
	allowed := [20]byte{1, 2, 3}
	list := filepath.Join(t.TempDir(), "allow.txt")
	os.WriteFile(list, []byte("# torrents we track\n"+hex.EncodeToString(allowed[:])+"\n\n"), 0o644)
	httpURL, udpURL := startTrackerCmd(t, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--interval", "2m", "--allow", list)
	c := &tracker.Client{UDPTimeout: time.Second}
	for i, u := range []string{httpURL, udpURL} {
		resp, err := c.Announce(context.Background(), u, tracker.AnnounceRequest{
			InfoHash: allowed, PeerID: [20]byte{byte(i)}, Port: uint16(7000 + i), Left: 1, Event: tracker.EventStarted,
		})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if resp.Interval != 2*time.Minute || resp.Incomplete != i+1 || len(resp.Peers) != i {
			t.Errorf("%s: %+v", u, resp)
		}
		_, err = c.Announce(context.Background(), u, tracker.AnnounceRequest{InfoHash: [20]byte{9}, PeerID: [20]byte{1}, Port: 1})
		var fe *tracker.FailureError
		if !errors.As(err, &fe) {
			t.Errorf("%s: a hash not on the allow list: %v", u, err)
		}
	}
}

func TestTrackerCommandErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("not a hash\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give --http"},
		{[]string{"--http", "127.0.0.1:0", "--interval", "1s"}, "--interval"},
		{[]string{"--http", "127.0.0.1:0", "--allow", bad}, "bad.txt:1"},
		{[]string{"--http", "256.0.0.1:1"}, "tracker:"},
	} {
		cmd := newTrackerCmd()
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bt tracker %v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
