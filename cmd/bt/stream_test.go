package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

func fixturePeer(port int) string {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()
}

// TestCatCommand writes one file of a torrent to stdout as it downloads.
func TestCatCommand(t *testing.T) {
	data, file, port := seedFixture(t)
	want, err := os.ReadFile(filepath.Join(data, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	f := &streamFlags{peers: []string{fixturePeer(port)}}
	if err := runCat(ctx, &out, &errOut, file, "a.bin", f); err != nil {
		t.Fatalf("cat: %v\n%s", err, errOut.String())
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("cat wrote %d bytes that differ from the file's %d", out.Len(), len(want))
	}

	// Through the command line, by index, into a directory of ours: only
	// that file is created.
	dir := t.TempDir()
	forgetContext("cat")
	got, err := execute(t, ctx, "cat", "--dir", dir, "--peer", fixturePeer(port), file, "1")
	if err != nil {
		t.Fatalf("bt cat: %v", err)
	}
	want1, _ := os.ReadFile(filepath.Join(data, "b.bin"))
	if got != string(want1) {
		t.Fatalf("bt cat FILE 1 wrote %d bytes, want the %d of b.bin", len(got), len(want1))
	}
	if _, err := os.Stat(filepath.Join(dir, "pack", "c.bin")); err == nil {
		t.Error("bt cat created a file it was not asked for")
	}
}

func TestCatErrors(t *testing.T) {
	_, file, _ := seedFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		pattern, want string
	}{
		{"", "has 3 files"},
		{"*.bin", "more than one file"},
		{"nothing.txt", "matches no file"},
		{"7", "out of range"},
	} {
		err := runCat(ctx, io.Discard, io.Discard, file, c.pattern, &streamFlags{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("cat %q: %v, want %q", c.pattern, err, c.want)
		}
	}
}

// TestServeRange: range requests through the HTTP handler return the
// right slices of a file while the torrent downloads.
func TestServeRange(t *testing.T) {
	data, file, port := seedFixture(t)
	want, err := os.ReadFile(filepath.Join(data, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ap, _ := netip.ParseAddrPort(fixturePeer(port))
	// Nothing is downloaded but what the requests read.
	tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: t.TempDir(), Peers: []netip.AddrPort{ap},
		FilePriorities: []int{0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newStreamHandler(tor))
	defer srv.Close()

	get := func(path, rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, body := get("/files/0/a.bin", "bytes=100000-109999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[100000:110000]) {
		t.Fatalf("range 100000-109999: %s, %d bytes, equal: %v", resp.Status, len(body), bytes.Equal(body, want[100000:110000]))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 100000-109999/%d", len(want)) {
		t.Errorf("Content-Range %q", cr)
	}
	resp, body = get("/files/0/a.bin", "bytes=-500")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[len(want)-500:]) {
		t.Fatalf("suffix range: %s, %d bytes", resp.Status, len(body))
	}
	resp, body = get("/files/0/a.bin", "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("whole file: %s, %d bytes", resp.Status, len(body))
	}
	if resp, _ = get("/files/9/x", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: %s", resp.Status)
	}
	if _, body = get("/", ""); !strings.Contains(string(body), `href="/files/1/b.bin"`) {
		t.Errorf("index page lacks the link to b.bin:\n%s", body)
	}
}

// TestServeCommand runs bt serve until interrupted.
func TestServeCommand(t *testing.T) {
	data, file, port := seedFixture(t)
	want, _ := os.ReadFile(filepath.Join(data, "b.bin"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, pw, io.Discard, file, "127.0.0.1:0", &streamFlags{peers: []string{fixturePeer(port)}})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("bt serve printed nothing: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	base := strings.Fields(line[i:])[0]
	resp, err := http.Get(strings.TrimSuffix(base, "/") + "/files/1/b.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, want) {
		t.Fatalf("GET b.bin: %s, %d bytes, want the %d of the file", resp.Status, len(body), len(want))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("bt serve: %v", err)
	}
}
