package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt/internal/peertest"
)

// miRun runs the bt command line in-process with fresh create and info
// commands (cobra keeps flag values between runs) and returns what it
// wrote to stdout and stderr and its exit status.
func miRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	for name, mk := range map[string]func() *cobra.Command{"create": newCreateCmd, "info": newInfoCmd} {
		for _, c := range rootCmd.Commands() {
			if c.Name() == name {
				rootCmd.RemoveCommand(c)
			}
		}
		rootCmd.AddCommand(mk())
	}
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	errc := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		errc <- string(b)
	}()
	code = run(args)
	os.Stderr = saved
	w.Close()
	stderr = <-errc
	r.Close()
	return out.String(), stderr, code
}

// miTree writes a small directory to make torrents of.
func miTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "photos")
	for name, size := range map[string]int64{"a.jpg": 100_000, "sub/b.jpg": 40_000, "sub/c.txt": 3} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		peertest.WriteRandomFile(t, p, size)
	}
	return root
}

type miInfoJSON struct {
	Name        string `json:"name"`
	InfoHash    string `json:"info_hash"`
	TotalLength int64  `json:"total_length"`
	PieceLength int64  `json:"piece_length"`
	NumPieces   int    `json:"num_pieces"`
	Private     bool   `json:"private"`
	Hybrid      bool   `json:"hybrid"`
	Files       []struct {
		Index  int    `json:"index"`
		Path   string `json:"path"`
		Length int64  `json:"length"`
		Pad    bool   `json:"pad"`
	} `json:"files"`
	Trackers [][]string `json:"trackers"`
	WebSeeds []string   `json:"web_seeds"`
	Magnet   string     `json:"magnet"`
}

func miInfo(t *testing.T, arg string) miInfoJSON {
	t.Helper()
	out, errOut, code := miRun(t, "info", "--json", arg)
	if code != 0 {
		t.Fatalf("bt info --json %s: exit %d: %s", arg, code, errOut)
	}
	var v miInfoJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("bt info --json output: %v\n%s", err, out)
	}
	return v
}

// TestInfoLibtorrentTorrents: bt info reads torrents made by libtorrent,
// v1-only and hybrid, with the info hash libtorrent reports.
func TestInfoLibtorrentTorrents(t *testing.T) {
	root := miTree(t)
	for _, v1only := range []bool{true, false} {
		data, ih := peertest.CreateTorrent(t, root, peertest.CreateOptions{V1Only: v1only, Trackers: []string{"http://127.0.0.1/announce"}})
		file := filepath.Join(t.TempDir(), "lt.torrent")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		v := miInfo(t, file)
		if v.InfoHash != ih || v.Hybrid == v1only || v.TotalLength < 140_003 {
			t.Fatalf("v1only=%v: bt info says %+v, libtorrent %s", v1only, v, ih)
		}
		out, _, code := miRun(t, "info", file)
		if code != 0 || !strings.Contains(out, ih) || !strings.Contains(out, "photos/sub/b.jpg") {
			t.Fatalf("text output:\n%s", out)
		}
		if !v1only && !strings.Contains(miSquash(out), "hybrid: yes") {
			t.Fatalf("hybrid not shown:\n%s", out)
		}
	}
}

// TestInfoMktorrent: bt info reads mktorrent's torrents with the info
// hash libtorrent reads.
func TestInfoMktorrent(t *testing.T) {
	bin := peertest.RequireCommand(t, "mktorrent")
	peertest.RequireLibtorrent(t)
	root := miTree(t)
	file := filepath.Join(t.TempDir(), "mk.torrent")
	if b, err := exec.Command(bin, "-a", "http://127.0.0.1/announce", "-o", file, root).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
	if v := miInfo(t, file); v.InfoHash != miLibtorrentHash(t, file) || len(v.Trackers) != 1 {
		t.Fatalf("bt info: %+v", v)
	}
}

func miLibtorrentHash(t *testing.T, file string) string {
	t.Helper()
	peertest.RequireLibtorrent(t)
	out, err := exec.Command(peertest.PythonPath, "-c",
		"import sys, libtorrent as lt; print(lt.torrent_info(sys.argv[1]).info_hash())", file).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestInfoMagnet(t *testing.T) {
	uri := "magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&dn=Hello&tr=udp%3A%2F%2Ft%3A1&x.pe=127.0.0.1:6881&so=1-2"
	out, _, code := miRun(t, "info", uri)
	for _, want := range []string{"Hello", "c0fda1edafdbdbb96443424e0b3899af7159d10e", "udp://t:1", "127.0.0.1:6881", "select only: 1-2", "magnet:?xt="} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("bt info magnet: exit %d, %q missing:\n%s", code, want, out)
		}
	}
	v := miInfo(t, uri)
	if v.Name != "Hello" || v.InfoHash != "c0fda1edafdbdbb96443424e0b3899af7159d10e" || len(v.Trackers) != 1 {
		t.Fatalf("%+v", v)
	}
}

func TestInfoErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.torrent")
	os.WriteFile(garbage, []byte("this is not bencode"), 0o644)
	empty := filepath.Join(dir, "empty.torrent")
	os.WriteFile(empty, nil, 0o644)
	html := filepath.Join(dir, "page.torrent")
	os.WriteFile(html, []byte("<!DOCTYPE html>\n<html><body>Download</body></html>"), 0o644)
	bad := filepath.Join(dir, "bad.torrent")
	os.WriteFile(bad, []byte("d4:infod4:name1:a12:piece lengthi0e6:lengthi5e6:pieces0:ee"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"info", filepath.Join(dir, "missing.torrent")}, "does not exist"},
		{[]string{"info", garbage}, "not a torrent file"},
		{[]string{"info", bad}, "invalid piece length"},
		{[]string{"info", "magnet:?xt=urn:btih:nothex"}, "invalid hash"},
		{[]string{"info", dir}, "is a directory, not a torrent file"},
		{[]string{"info", empty}, "is not a torrent file (it is empty)"},
		{[]string{"info", html}, "is not a torrent file (it is an HTML"},
		{[]string{"info"}, "accepts 1 arg"},
	} {
		out, errOut, code := miRun(t, tt.args...)
		first, usage, _ := strings.Cut(strings.TrimSuffix(errOut, "\n"), "\n")
		if code == 0 || !strings.HasPrefix(first, "bt: ") || !strings.Contains(first, tt.want) ||
			(tt.args[len(tt.args)-1] == "info") != strings.HasPrefix(usage, "usage: bt info ") {
			t.Errorf("bt %q: exit %d, stderr %q, stdout %q; want one line with %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Count(first, "metainfo: ")+strings.Count(first, "bt: ") > 1 {
			t.Errorf("bt %q: repeated prefixes in %q", tt.args, first)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"create", "info"} {
		out, _, code := miRun(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "bt "+cmd) {
			t.Errorf("bt %s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

// miSquash collapses runs of spaces, so checks do not depend on column widths.
func miSquash(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// TestInfoTransmissionCreate: bt info reads transmission-create's torrents
// with the info hash transmission-show reports.
func TestInfoTransmissionCreate(t *testing.T) {
	create := peertest.RequireCommand(t, "transmission-create")
	show := peertest.RequireCommand(t, "transmission-show")
	root := miTree(t)
	file := filepath.Join(t.TempDir(), "tr.torrent")
	if b, err := exec.Command(create, "-o", file, "-t", "http://127.0.0.1/announce", root).CombinedOutput(); err != nil {
		t.Fatalf("transmission-create: %v\n%s", err, b)
	}
	b, err := exec.Command(show, file).CombinedOutput()
	if err != nil {
		t.Fatalf("transmission-show: %v\n%s", err, b)
	}
	v := miInfo(t, file)
	if !strings.Contains(string(b), "Hash: "+v.InfoHash) || len(v.Files) != 3 {
		t.Fatalf("bt info %+v; transmission-show:\n%s", v, b)
	}
}
