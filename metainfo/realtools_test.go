package metainfo_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
)

// makeTree writes a small directory of random files: several sizes that do
// not line up with pieces, an empty file and a nested directory.
func makeTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	for _, f := range []struct {
		name string
		size int64
	}{
		{"a.bin", 300_001},
		{"b/c.bin", 70_000},
		{"b/d/e.txt", 17},
		{"empty", 0},
		{"z.bin", 1 << 20},
	} {
		p := filepath.Join(root, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		peertest.WriteRandomFile(t, p, f.size)
	}
	return root
}

// libtorrentInfoHash asks libtorrent to read a .torrent file and returns its
// v1 info hash.
func libtorrentInfoHash(t *testing.T, path string) string {
	t.Helper()
	peertest.RequireLibtorrent(t)
	out, err := exec.Command(peertest.PythonPath, "-c",
		"import sys, libtorrent as lt; print(lt.torrent_info(sys.argv[1]).info_hash())", path).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent cannot read %s: %v\n%s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCreateLoadsInLibtorrent: a torrent made by Create loads in
// libtorrent with the same info hash, and libtorrent's check of our data
// against it finds every piece (progress 1.0, seeding).
func TestCreateLoadsInLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	for _, tc := range []struct {
		name string
		path func(root string) string
	}{
		{"multi-file", func(root string) string { return root }},
		{"single-file", func(root string) string { return filepath.Join(root, "a.bin") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := makeTree(t)
			src := tc.path(root)
			m, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{
				PieceLength: 32 << 10, Trackers: [][]string{{"http://127.0.0.1:1/announce"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			data, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "x.torrent")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if got := libtorrentInfoHash(t, file); got != m.InfoHash.String() {
				t.Fatalf("libtorrent reads info hash %s, bt made %s", got, m.InfoHash)
			}
			lt := peertest.StartLibtorrent(t, nil)
			ih := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Dir(src)})
			if ih != m.InfoHash.String() {
				t.Fatalf("libtorrent added %s, want %s", ih, m.InfoHash)
			}
			st := lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool {
				return s.Error != "" || (s.IsSeeding && s.Progress >= 1)
			})
			if st.Error != "" || st.TotalDone != m.Info.TotalLength() {
				t.Fatalf("libtorrent status %+v, want seeding with %d bytes", st, m.Info.TotalLength())
			}
		})
	}
}

// TestLibtorrentTorrentsLoad: torrents made by libtorrent, v1-only and its
// default v1+v2 hybrid (pad file after every file), load with the info
// hash libtorrent reports, and their layout matches the files.
func TestLibtorrentTorrentsLoad(t *testing.T) {
	root := makeTree(t)
	for _, v1only := range []bool{true, false} {
		data, ih := peertest.CreateTorrent(t, root, peertest.CreateOptions{V1Only: v1only, PieceSize: 16 << 10,
			Trackers: []string{"http://127.0.0.1/announce"}})
		m, err := metainfo.Parse(data)
		if err != nil {
			t.Fatalf("v1only=%v: %v", v1only, err)
		}
		if m.InfoHash.String() != ih {
			t.Fatalf("v1only=%v: info hash %s, libtorrent says %s", v1only, m.InfoHash, ih)
		}
		if m.Info.Hybrid == v1only {
			t.Fatalf("v1only=%v: Hybrid = %v", v1only, m.Info.Hybrid)
		}
		checkFilesMatch(t, m, root)
	}
}

// checkFilesMatch checks that the non-pad files of m's layout are the files
// under root with their sizes (empty files may be left out: transmission-create
// leaves them out).
func checkFilesMatch(t *testing.T, m *metainfo.MetaInfo, root string) {
	t.Helper()
	want := map[string]int64{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			rel, _ := filepath.Rel(filepath.Dir(root), p)
			if fi.Size() > 0 || !strings.Contains(m.CreatedBy, "Transmission") {
				want[filepath.ToSlash(rel)] = fi.Size()
			}
		}
		return nil
	})
	got := map[string]int64{}
	for _, f := range m.Info.Layout().Files {
		if !f.Pad {
			got[strings.Join(f.Path, "/")] = f.Length
		}
	}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("file %s: length %d in the torrent, %d on disk (torrent files %v)", p, got[p], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("torrent has %d files, disk %d", len(got), len(want))
	}
}

// TestOtherToolsTorrentsLoad: torrents made by mktorrent and
// transmission-create load with the info hash libtorrent (and
// transmission-show) reads from them.
func TestOtherToolsTorrentsLoad(t *testing.T) {
	root := makeTree(t)
	dir := t.TempDir()
	tools := []struct {
		name string
		args func(out string) []string
	}{
		{"mktorrent", func(out string) []string { return []string{"-a", "http://127.0.0.1/announce", "-o", out, root} }},
		{"transmission-create", func(out string) []string { return []string{"-o", out, root} }},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			bin := peertest.RequireCommand(t, tool.name)
			out := filepath.Join(dir, tool.name+".torrent")
			if b, err := exec.Command(bin, tool.args(out)...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tool.name, err, b)
			}
			m, err := metainfo.LoadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if want := libtorrentInfoHash(t, out); m.InfoHash.String() != want {
				t.Fatalf("info hash %s, libtorrent says %s", m.InfoHash, want)
			}
			if tool.name == "transmission-create" {
				show := peertest.RequireCommand(t, "transmission-show")
				b, err := exec.Command(show, out).CombinedOutput()
				if err != nil {
					t.Fatalf("transmission-show: %v\n%s", err, b)
				}
				h := regexp.MustCompile(`Hash: ([0-9a-f]{40})`).FindSubmatch(b)
				if h == nil || string(h[1]) != m.InfoHash.String() {
					t.Fatalf("transmission-show says %q, bt %s", h, m.InfoHash)
				}
			}
			checkFilesMatch(t, m, root)
		})
	}
}

// TestHybridMagnetV2Hash: the magnet link of a libtorrent hybrid carries
// the same v2 info hash libtorrent computes.
func TestHybridMagnetV2Hash(t *testing.T) {
	root := makeTree(t)
	data, _ := peertest.CreateTorrent(t, root, peertest.CreateOptions{})
	file := filepath.Join(t.TempDir(), "h.torrent")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(peertest.PythonPath, "-c",
		"import sys, libtorrent as lt; print(lt.make_magnet_uri(lt.torrent_info(sys.argv[1])))", file).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent: %v\n%s", err, out)
	}
	theirs, err := metainfo.ParseMagnet(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ours := m.Magnet()
	if ours.InfoHash != theirs.InfoHash || string(ours.InfoHashV2) != string(theirs.InfoHashV2) || len(ours.InfoHashV2) != 32 {
		t.Fatalf("magnet %s, libtorrent %s", ours, theirs)
	}
}

// TestMagnetLoadsInLibtorrent: libtorrent parses the magnet links bt
// writes (hex and base32 hashes, escaped trackers and names) to the same
// info hash, name and trackers.
func TestMagnetLoadsInLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	m, err := metainfo.ParseMagnet("magnet:?xt=urn:btih:YD62D3NP3PN3SZCDIJHAWOEZV5YVTUIO&dn=A%20name%20%26%20more%3F&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce%3Fkey%3D1%26x%3D2&tr=udp%3A%2F%2F127.0.0.1%3A1&ws=http%3A%2F%2F127.0.0.1%2Fw%20s%2F")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(peertest.PythonPath, "-c", `
import sys, json, libtorrent as lt
p = lt.parse_magnet_uri(sys.argv[1])
print(json.dumps({"ih": str(p.info_hashes.v1), "name": p.name, "trackers": list(p.trackers), "ws": list(p.url_seeds)}))
`, m.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent: %v\n%s", err, out)
	}
	var got struct {
		IH       string   `json:"ih"`
		Name     string   `json:"name"`
		Trackers []string `json:"trackers"`
		WS       []string `json:"ws"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.IH != m.InfoHash.String() || got.Name != m.Name || strings.Join(got.Trackers, " ") != strings.Join(m.Trackers, " ") ||
		strings.Join(got.WS, " ") != strings.Join(m.WebSeeds, " ") {
		t.Fatalf("libtorrent reads %+v from %s", got, m)
	}
}
