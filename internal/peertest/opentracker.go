package peertest

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartOpentracker starts opentracker on 127.0.0.1 serving HTTP and UDP on
// one port, and returns its announce URLs. Debian's build serves only
// whitelisted torrents, so every info hash (hex) the test will use must be
// given here.
func StartOpentracker(t testing.TB, infoHashesHex ...string) (announceHTTP, announceUDP string) {
	t.Helper()
	bin := RequireCommand(t, "opentracker")
	dir, err := os.MkdirTemp("", "opentracker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// opentracker drops root for this user and chroots to dir, reading the
	// whitelist from inside it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	list := strings.Join(infoHashesHex, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "whitelist.txt"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "opentracker.conf")
	if err := os.WriteFile(conf, []byte("access.whitelist /whitelist.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	ps := strconv.Itoa(port)
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", ps, "-P", ps, "-f", conf, "-d", dir, "-u", "_opentracker")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("peertest: start opentracker: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	addr := net.JoinHostPort("127.0.0.1", ps)
	waitListening(t, addr, 10*time.Second, func() string {
		b, _ := os.ReadFile(logf.Name())
		return string(b)
	})
	announce := fmt.Sprintf("http://%s/announce", addr)
	if len(infoHashesHex) > 0 {
		waitWhitelisted(t, announce, infoHashesHex[0])
	}
	return announce, fmt.Sprintf("udp://%s/announce", addr)
}

// waitWhitelisted polls until opentracker accepts an announce for the info
// hash: it listens before it has read its whitelist, and until then refuses
// every torrent as not authorized. The probe must announce "started": a
// "stopped" one is answered without consulting the whitelist. Once it is
// accepted, the probe announces "stopped", so it leaves no peer behind.
func waitWhitelisted(t testing.TB, announce, ihHex string) {
	t.Helper()
	ih, err := hex.DecodeString(ihHex)
	if err != nil || len(ih) != 20 {
		t.Fatalf("peertest: info hash %q is not 40 hex digits", ihHex)
	}
	q := "?info_hash=" + escapeAll(ih) + "&peer_id=" + escapeAll([]byte("-PT0000-readinessprb")) +
		"&port=1&uploaded=0&downloaded=0&left=0&compact=1&event="
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(announce + q + "started")
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if !strings.Contains(string(body), "failure reason") {
				if resp, err := client.Get(announce + q + "stopped"); err == nil {
					resp.Body.Close()
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("peertest: opentracker still refuses %s after 10s: %v %q", ihHex, err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// escapeAll percent-encodes every byte. (url.QueryEscape turns a space byte
// into "+", which opentracker takes literally: an info hash with a 0x20 byte,
// one in 13 random ones, was then refused as not whitelisted.)
func escapeAll(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// waitListening polls until a TCP connection to addr succeeds.
func waitListening(t testing.TB, addr string, timeout time.Duration, log func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("peertest: nothing listening on %s after %v: %v\n%s", addr, timeout, err, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
