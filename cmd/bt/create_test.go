package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
)

// TestCreateThenInfo: bt create writes a torrent that bt info shows with
// every option, and libtorrent reads it with the same info hash and
// finds the data complete.
func TestCreateThenInfo(t *testing.T) {
	root := miTree(t)
	out := filepath.Join(t.TempDir(), "p.torrent")
	stdout, stderr, code := miRun(t, "create", "-o", out,
		"-t", "http://127.0.0.1/announce", "-t", "udp://127.0.0.1:1,udp://127.0.0.1:2",
		"--webseed", "http://127.0.0.1/seed/", "--piece-length", "16K", "--private",
		"--comment", "holiday", "--source", "SRC", root)
	if code != 0 {
		t.Fatalf("bt create: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "hashing: 100%") || !strings.Contains(stdout, "created "+out) {
		t.Fatalf("bt create output (not a terminal: plain lines):\n%s", stdout)
	}
	v := miInfo(t, out)
	if v.Name != "photos" || !v.Private || v.PieceLength != 16384 || v.NumPieces != 9 || v.TotalLength != 140_003 ||
		len(v.Trackers) != 2 || len(v.Trackers[1]) != 2 || v.WebSeeds[0] != "http://127.0.0.1/seed/" {
		t.Fatalf("bt info: %+v", v)
	}
	var paths []string
	for i, f := range v.Files {
		if f.Index != i {
			t.Fatalf("file %d has index %d", i, f.Index)
		}
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, " ") != "photos/a.jpg photos/sub/b.jpg photos/sub/c.txt" {
		t.Fatalf("files %q", paths)
	}
	text, _, _ := miRun(t, "info", out)
	for _, want := range []string{"private:     yes", "tier 1: udp://127.0.0.1:1", "          udp://127.0.0.1:2", "comment:     holiday", "source:      SRC", "  2       3 B  photos/sub/c.txt", "magnet: magnet:?xt=urn:btih:" + v.InfoHash} {
		if !strings.Contains(miSquash(text), miSquash(want)) {
			t.Fatalf("bt info text lacks %q:\n%s", want, text)
		}
	}

	// libtorrent: same info hash, and a check of the data finds it all.
	if got := miLibtorrentHash(t, out); got != v.InfoHash {
		t.Fatalf("libtorrent reads %s, bt info %s", got, v.InfoHash)
	}
	lt := peertest.StartLibtorrent(t, nil)
	ih := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: out, SavePath: filepath.Dir(root)})
	st := lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool { return s.Error != "" || (s.IsSeeding && s.Progress >= 1) })
	if st.Error != "" || ih != v.InfoHash {
		t.Fatalf("libtorrent: %s %+v", ih, st)
	}
}

func TestCreateDefaultOutput(t *testing.T) {
	root := miTree(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if _, stderr, code := miRun(t, "create", root); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "photos.torrent")); err != nil {
		t.Fatal(err)
	}
	// Not overwritten without --force.
	_, stderr, code := miRun(t, "create", root)
	if code == 0 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second create: exit %d %q", code, stderr)
	}
	if _, stderr, code := miRun(t, "create", "--force", "--name", "photos", root); code != 0 {
		t.Fatalf("--force: exit %d %q", code, stderr)
	}
}

func TestCreateErrors(t *testing.T) {
	root := miTree(t)
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.torrent")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "-o", out, filepath.Join(empty, "missing")}, "does not exist"},
		{[]string{"create", "-o", out, empty}, "no files"},
		{[]string{"create", "-o", out, "--piece-length", "1000", root}, "invalid piece length"},
		{[]string{"create", "-o", out, "--piece-length", "big", root}, "not a positive size"},
		{[]string{"create", "-o", out}, "accepts 1 arg"},
		{[]string{"create", "--bogus", root}, "unknown flag"},
	} {
		_, errOut, code := miRun(t, tt.args...)
		// One line; a wrong command line adds the command's usage.
		first, usage, _ := strings.Cut(strings.TrimSuffix(errOut, "\n"), "\n")
		if code == 0 || !strings.HasPrefix(first, "bt: ") || !strings.Contains(first, tt.want) ||
			usage != "" && !strings.HasPrefix(usage, "usage: bt create ") || strings.Contains(usage, "\n") {
			t.Errorf("bt %q: exit %d, stderr %q; want one line with %q", tt.args, code, errOut, tt.want)
		}
		if (tt.want == "unknown flag" || tt.want == "accepts 1 arg") != (usage != "") {
			t.Errorf("bt %q: stderr %q; the usage line belongs to a wrong command line only", tt.args, errOut)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed create left an output file")
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"262144": 262144, "256K": 256 << 10, "256kib": 256 << 10, "1M": 1 << 20, "2MB": 2 << 20, "1G": 1 << 30} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "K", "1X", "99999999999G"} {
		if _, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) accepted", in)
		}
	}
	if humanSize(1536) != "1.5 KiB" || humanSize(512) != "512 B" || humanSize(1<<30) != "1.0 GiB" {
		t.Error(humanSize(1536), humanSize(512), humanSize(1<<30))
	}
}
