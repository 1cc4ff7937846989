package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testConfig(dir string) Config {
	return Config{Engine: bt.Config{ListenAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "dl"),
		StateDir: filepath.Join(dir, "state"), NoTrackers: true}, WatchInterval: 20 * time.Millisecond}
}

func makeTorrent(t *testing.T, name string, size int) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	os.WriteFile(src, bytes.Repeat([]byte(name), size/len(name)), 0o644)
	mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mi.Marshal()
	return b
}

// TestWatchDirectory: a .torrent and a .magnet file dropped in the watch
// directory are added and renamed *.added; a bad file becomes *.invalid;
// nothing is added twice.
func TestWatchDirectory(t *testing.T) {
	dir := t.TempDir()
	watch := filepath.Join(dir, "watch")
	os.MkdirAll(watch, 0o755)
	cfg := testConfig(dir)
	cfg.WatchDir = watch
	d, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	os.WriteFile(filepath.Join(watch, "one.torrent"), makeTorrent(t, "one", 40_000), 0o644)
	os.WriteFile(filepath.Join(watch, "two.magnet"), []byte("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=two\n"), 0o644)
	os.WriteFile(filepath.Join(watch, "bad.torrent"), []byte("not a torrent"), 0o644)
	waitfor.Cond(t, 30*time.Second, "the renames", func() bool {
		_, e1 := os.Stat(filepath.Join(watch, "one.torrent.added"))
		_, e2 := os.Stat(filepath.Join(watch, "two.magnet.added"))
		_, e3 := os.Stat(filepath.Join(watch, "bad.torrent.invalid"))
		return e1 == nil && e2 == nil && e3 == nil
	})
	if n := len(d.Torrents()); n != 2 {
		t.Fatalf("%d torrents, want 2", n)
	}
	// The same torrent again is a duplicate: renamed, not added.
	os.WriteFile(filepath.Join(watch, "again.torrent"), makeTorrent(t, "one", 40_000), 0o644)
	waitfor.Cond(t, 30*time.Second, "the duplicate's rename", func() bool {
		_, err := os.Stat(filepath.Join(watch, "again.torrent.added"))
		return err == nil
	})
	if n := len(d.Torrents()); n != 2 {
		t.Fatalf("%d torrents after a duplicate, want 2", n)
	}
}

// TestRestartKeepsIDsAndSettings: ids, per-torrent limits, session
// settings and stats survive a restart; a removed torrent does not come
// back and its id is not reused.
func TestRestartKeepsIDsAndSettings(t *testing.T) {
	dir := t.TempDir()
	d, err := New(context.Background(), testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, name := range []string{"a", "b", "c"} {
		e, err := d.AddMetainfo(makeTorrent(t, name, 20_000), AddOptions{Paused: name == "b"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID())
	}
	if err := d.ByID(ids[2]).Update(func(in *Info) error { in.DownloadLimit, in.DownloadLimited = 5000, true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(d.ByID(ids[0]), false); err != nil {
		t.Fatal(err)
	}
	d.SetSettings(func(s *Settings) error { s.AltSpeedEnabled = true; return nil })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = New(context.Background(), testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	list := d.Torrents()
	if len(list) != 2 || list[0].ID() != ids[1] || list[1].ID() != ids[2] {
		t.Fatalf("after the restart: %d torrents", len(list))
	}
	if st := list[0].Engine().State(); st != bt.Stopped {
		t.Errorf("the paused torrent came back %v", st)
	}
	if in := list[1].Info(); in.DownloadLimit != 5000 || !in.DownloadLimited {
		t.Errorf("limits after the restart: %+v", in)
	}
	if down, _ := list[1].Engine().RateLimits(); down != 5000 {
		t.Errorf("the engine's limit after the restart: %d", down)
	}
	if !d.Settings().AltSpeedEnabled {
		t.Error("session settings lost")
	}
	if _, cum := d.SessionStats(); cum.SessionCount != 2 || cum.FilesAdded != 3 {
		t.Errorf("cumulative stats: %+v", cum)
	}
	e, err := d.AddMetainfo(makeTorrent(t, "d", 20_000), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != ids[2]+1 {
		t.Errorf("new id %d, want %d (ids are not reused)", e.ID(), ids[2]+1)
	}
}
