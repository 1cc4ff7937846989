package resume

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
)

func sample() *Data {
	have := bitfield.New(10)
	have.Set(0)
	have.Set(7)
	have.Set(9)
	return &Data{
		InfoHash: metainfo.Hash{1, 2, 3}, Name: "x", Dir: "/tmp/x", State: "started",
		PieceLength: 16 << 10, NumPieces: 10, Have: have,
		Files: []File{
			{Length: 100 << 10, Priority: 4, Exists: true, Size: 100 << 10, ModTime: time.Unix(1700000000, 123456789)},
			{Length: 60 << 10, Priority: 0, InPart: true},
		},
		Part:     File{Exists: true, Size: 160 << 10, ModTime: time.Unix(1700000001, 5)},
		Trackers: [][]string{{"http://a/announce"}, {"udp://b:1", "udp://c:2"}},
		Uploaded: 5, Downloaded: 7,
		AddedAt: time.Unix(1600000000, 0), SavedAt: time.Unix(1700000002, 0),
	}
}

func TestRoundTrip(t *testing.T) {
	d := sample()
	p, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != d.InfoHash || got.Name != d.Name || got.Dir != d.Dir || got.State != d.State ||
		got.PieceLength != d.PieceLength || got.NumPieces != d.NumPieces ||
		!bytes.Equal(got.Have.Bytes(), d.Have.Bytes()) || got.Uploaded != 5 || got.Downloaded != 7 ||
		!got.AddedAt.Equal(d.AddedAt) || !got.SavedAt.Equal(d.SavedAt) || !got.CompletedAt.IsZero() {
		t.Fatalf("round trip: got %+v, want %+v", got, d)
	}
	if len(got.Files) != 2 || got.Files[0] != (File{Length: 100 << 10, Priority: 4, Exists: true, Size: 100 << 10,
		ModTime: time.Unix(0, d.Files[0].ModTime.UnixNano())}) || got.Files[1] != d.Files[1] {
		t.Fatalf("files: %+v", got.Files)
	}
	if !slices.EqualFunc(got.Trackers, d.Trackers, slices.Equal) {
		t.Fatalf("trackers: %v", got.Trackers)
	}
	// Encoding is deterministic.
	p2, _ := got.Encode()
	if !bytes.Equal(p, p2) {
		t.Fatal("re-encoding differs")
	}
}

func TestDecodeTruncated(t *testing.T) {
	p, _ := sample().Encode()
	for n := range len(p) {
		if _, err := Decode(p[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err %v, want ErrCorrupt", n, err)
		}
	}
}

func TestDecodeCorrupt(t *testing.T) {
	p, _ := sample().Encode()
	// Flip every bit of every byte in turn: never accepted as different data.
	orig, _ := Decode(p)
	for i := range p {
		for b := range 8 {
			q := bytes.Clone(p)
			q[i] ^= 1 << b
			d, err := Decode(q)
			if err == nil {
				// Only an equivalent encoding may pass (none exists here).
				t.Fatalf("flipped bit %d of byte %d accepted: %+v (orig %+v)", b, i, d, orig)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("flip %d/%d: %v", i, b, err)
			}
		}
	}
}

func TestDecodeVersion(t *testing.T) {
	p, _ := sample().Encode()
	q := bytes.Replace(p, []byte("7:versioni1e"), []byte("7:versioni2e"), 1)
	if _, err := Decode(q); !errors.Is(err, ErrVersion) {
		t.Fatalf("err %v, want ErrVersion", err)
	}
}

// TestDecodeInconsistent: a correctly checksummed record that contradicts
// itself is corrupt too.
func TestDecodeInconsistent(t *testing.T) {
	for name, mutate := range map[string]func(w *wireData){
		"short hash":     func(w *wireData) { w.InfoHash = w.InfoHash[:19] },
		"bitfield":       func(w *wireData) { w.Have = w.Have[:1] },
		"spare bits":     func(w *wireData) { w.Have[1] |= 1 },
		"pieces":         func(w *wireData) { w.NumPieces = 11; w.Have = make([]byte, 2) },
		"negative":       func(w *wireData) { w.Files[0].Size = -1 },
		"priority":       func(w *wireData) { w.Files[0].Priority = MaxPriority + 1 },
		"state":          func(w *wireData) { w.State = "dancing" },
		"piece length 0": func(w *wireData) { w.PieceLength = 0 },
		"overflow": func(w *wireData) {
			w.Files[0].Length = 1<<63 - 1
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := sample()
			p, _ := d.Encode()
			var env envelope
			mustUnmarshal(t, p, &env)
			var w wireData
			mustUnmarshal(t, env.Data, &w)
			mutate(&w)
			if _, err := Decode(reseal(t, &w)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a.resume")
	if err := WriteFile(name, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(name)
	if string(got) != "two" {
		t.Fatalf("got %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
	// A directory that cannot be written: an error, the old file intact.
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if err := WriteFile(name, []byte("three"), 0o600); err == nil {
			t.Fatal("write into a read-only directory succeeded")
		}
		if got, _ := os.ReadFile(name); string(got) != "two" {
			t.Fatalf("after a failed write: %q", got)
		}
	}
}

// TestWriteFileNeverTorn: a reader racing a writer sees the old contents
// or the new, whole, never a truncated or mixed file (what a plain
// os.WriteFile, truncating in place, would show).
func TestWriteFileNeverTorn(t *testing.T) {
	name := filepath.Join(t.TempDir(), "a.resume")
	a, b := bytes.Repeat([]byte{'a'}, 1<<20), bytes.Repeat([]byte{'b'}, 1<<20+1)
	if err := WriteFile(name, a, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 40 {
			p := a
			if i%2 == 0 {
				p = b
			}
			if err := WriteFile(name, p, 0o600); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d reads during 40 writes, none torn", reads)
			return
		default:
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("read %d saw a torn file of %d bytes", reads, len(got))
		}
		reads++
	}
}

func TestDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if _, err := Open(path); err != nil {
		t.Fatal(err)
	}
	// A temporary file left by a crash is removed by the next Open; one
	// that another process is writing this moment is not.
	old := filepath.Join(path, "x.resume.tmp-123")
	os.WriteFile(old, nil, 0o600)
	long := time.Now().Add(-time.Hour)
	os.Chtimes(old, long, long)
	live := filepath.Join(path, "y.resume.tmp-456")
	os.WriteFile(live, nil, 0o600)
	os.WriteFile(filepath.Join(path, "README"), nil, 0o600)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary file kept: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("another process's temporary file removed: %v", err)
	}
	r := sample()
	if err := d.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := d.Load(r.InfoHash)
	if err != nil || got.Name != "x" {
		t.Fatalf("Load: %v %+v", err, got)
	}
	if _, err := d.Load(metainfo.Hash{9}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing record: %v", err)
	}
	// A record copied under another torrent's name is foreign.
	p, _ := os.ReadFile(d.ResumePath(r.InfoHash))
	os.WriteFile(d.ResumePath(metainfo.Hash{8}), p, 0o600)
	if _, err := d.Load(metainfo.Hash{8}); !errors.Is(err, ErrForeign) {
		t.Fatalf("foreign record: %v", err)
	}
	mi := makeTorrent(t, t.TempDir(), []int64{1000})
	tp, _ := mi.Marshal()
	if err := d.SaveTorrent(mi.InfoHash, tp); err != nil {
		t.Fatal(err)
	}
	if got, err := d.LoadTorrent(mi.InfoHash); err != nil || got.InfoHash != mi.InfoHash {
		t.Fatalf("LoadTorrent: %v", err)
	}
	list, err := d.List()
	if err != nil || len(list) != 3 {
		t.Fatalf("List: %v %v", list, err)
	}
	for _, ih := range list {
		if err := d.Remove(ih); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := d.List(); len(list) != 0 {
		t.Fatalf("after Remove: %v", list)
	}
}

// fixture is a torrent with its data on disk and a store over it.
type fixture struct {
	mi    *metainfo.MetaInfo
	dir   string
	store *storage.Store
}

func makeTorrent(t *testing.T, dir string, sizes []int64) *metainfo.MetaInfo {
	t.Helper()
	src := filepath.Join(dir, "t")
	os.MkdirAll(src, 0o755)
	for i, n := range sizes {
		p := make([]byte, n)
		rand.Read(p)
		if err := os.WriteFile(filepath.Join(src, string(rune('a'+i))), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	// Round trip through bytes so the metainfo is what a client loads.
	p, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if mi, err = metainfo.Parse(p); err != nil {
		t.Fatal(err)
	}
	return mi
}

// newFixture makes files a, b, c of 40, 50 and 30 KiB (pieces of 16 KiB
// cross file boundaries) in a download directory and opens a store.
func newFixture(t *testing.T, prios []int) *fixture {
	dir := t.TempDir()
	mi := makeTorrent(t, dir, []int64{40 << 10, 50 << 10, 30 << 10})
	f := &fixture{mi: mi, dir: dir}
	f.open(t, prios)
	return f
}

func (f *fixture) open(t *testing.T, prios []int) {
	t.Helper()
	st, err := storage.Open(f.dir, f.mi.Info.Layout(), func(i int) [20]byte { return f.mi.Info.PieceHash(i) },
		storage.Options{InfoHash: f.mi.InfoHash, FilePriorities: prios})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
}

// record checks the store and returns a record of the passing pieces, as
// the engine would write it.
func (f *fixture) record(t *testing.T, prios []int) *Data {
	t.Helper()
	l := f.mi.Info.Layout()
	have := bitfield.New(l.NumPieces)
	if err := f.store.Check(context.Background(), nil, func(i int, ok bool) {
		if ok {
			have.Set(i)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Sync(); err != nil {
		t.Fatal(err)
	}
	stats, err := f.store.Stat()
	if err != nil {
		t.Fatal(err)
	}
	part, err := f.store.PartStat()
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{InfoHash: f.mi.InfoHash, PieceLength: l.PieceLength, NumPieces: l.NumPieces, Have: have,
		Files: Files(l, prios, stats), Part: PartFile(part)}
	// Through the codec, as it would come back from disk.
	p, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if d, err = Decode(p); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) plan(t *testing.T, d *Data) *Plan {
	t.Helper()
	stats, err := f.store.Stat()
	if err != nil {
		t.Fatal(err)
	}
	part, _ := f.store.PartStat()
	p, err := d.Plan(f.mi.InfoHash, f.mi.Info.Layout(), stats, part)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pieceRange(first, end int) []int {
	var out []int
	for i := first; i < end; i++ {
		out = append(out, i)
	}
	return out
}

func TestPlanUnchanged(t *testing.T) {
	f := newFixture(t, nil)
	d := f.record(t, nil)
	if !d.Have.All() {
		t.Fatalf("fixture: have %v", d.Have)
	}
	p := f.plan(t, d)
	if !p.Trusted.All() || len(p.Recheck) != 0 || len(p.Changed) != 0 {
		t.Fatalf("unchanged files: %+v", p)
	}
}

func TestPlanFileChanged(t *testing.T) {
	l := func(f *fixture) *metainfo.Layout { return f.mi.Info.Layout() }
	for name, change := range map[string]func(t *testing.T, path string){
		"mtime": func(t *testing.T, path string) {
			os.Chtimes(path, time.Now(), time.Now().Add(time.Hour))
		},
		"size": func(t *testing.T, path string) {
			st, _ := os.Stat(path)
			os.Truncate(path, st.Size()-1)
			os.Chtimes(path, st.ModTime(), st.ModTime()) // same time: size alone tells
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := f.record(t, nil)
			path := filepath.Join(f.dir, "t", "b")
			change(t, path)
			f.store.DropHandles()
			p := f.plan(t, d)
			first, end := l(f).FilePieces(1)
			if want := pieceRange(first, end); !slices.Equal(p.Recheck, want) {
				t.Fatalf("recheck %v, want %v", p.Recheck, want)
			}
			if !slices.Equal(p.Changed, []int{1}) {
				t.Fatalf("changed %v", p.Changed)
			}
			for i := range l(f).NumPieces {
				if p.Trusted.Has(i) == (i >= first && i < end) {
					t.Fatalf("piece %d: trusted %v", i, p.Trusted.Has(i))
				}
			}
		})
	}
}

func TestPlanFileDeleted(t *testing.T) {
	f := newFixture(t, nil)
	d := f.record(t, nil)
	os.Remove(filepath.Join(f.dir, "t", "c"))
	f.store.DropHandles()
	p := f.plan(t, d)
	first, end := f.mi.Info.Layout().FilePieces(2)
	// The piece c shares with b is checked (it will fail: not present);
	// trusted are only the pieces wholly before c.
	if len(p.Recheck) != 0 || !slices.Equal(p.Changed, []int{2}) {
		t.Fatalf("plan %+v", p)
	}
	for i := range f.mi.Info.Layout().NumPieces {
		if p.Trusted.Has(i) == (i >= first && i < end) {
			t.Fatalf("piece %d: trusted %v", i, p.Trusted.Has(i))
		}
	}
}

// TestPlanRecordedPiecesOnly: pieces not in the record are not trusted even
// when their files are unchanged.
func TestPlanRecordedPiecesOnly(t *testing.T) {
	f := newFixture(t, nil)
	d := f.record(t, nil)
	d.Have.Clear(3)
	p := f.plan(t, d)
	if p.Trusted.Has(3) || p.Trusted.Count() != d.Have.Count() {
		t.Fatalf("trusted %v", p.Trusted)
	}
}

func TestPlanPartFile(t *testing.T) {
	// Skip b: it is not on disk, so its bytes of shared pieces go to the
	// part file.
	f := newFixture(t, nil)
	os.Remove(filepath.Join(f.dir, "t", "b"))
	f.store.Close()
	prios := []int{1, 0, 1}
	f.open(t, prios)
	d := f.record(t, prios)
	if st, _ := f.store.PartStat(); !d.Files[1].InPart {
		t.Fatalf("b not in part: %+v %+v", d.Files[1], st)
	}
	p := f.plan(t, d)
	if len(p.Recheck) != 0 || len(p.Changed) != 0 {
		t.Fatalf("plan %+v", p)
	}
	// The part file appears (or changes): b's pieces are suspect.
	if err := os.WriteFile(filepath.Join(f.dir, f.store.PartFileName()), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.store.DropHandles()
	p = f.plan(t, d)
	first, end := f.mi.Info.Layout().FilePieces(1)
	if !slices.Equal(p.Changed, []int{1}) || !slices.Equal(p.Recheck, pieceRange(first, end)) {
		t.Fatalf("part file changed: plan %+v", p)
	}
}

func TestPlanForeignAndMismatch(t *testing.T) {
	f := newFixture(t, nil)
	d := f.record(t, nil)
	stats, _ := f.store.Stat()
	part, _ := f.store.PartStat()
	l := f.mi.Info.Layout()
	if _, err := d.Plan(metainfo.Hash{1}, l, stats, part); !errors.Is(err, ErrForeign) {
		t.Fatalf("foreign: %v", err)
	}
	other := makeTorrent(t, t.TempDir(), []int64{40 << 10, 50 << 10, 31 << 10})
	if _, err := d.Plan(f.mi.InfoHash, other.Info.Layout(), stats, part); !errors.Is(err, ErrMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	d.Files[0].Length++
	if _, err := d.Plan(f.mi.InfoHash, l, stats, part); !errors.Is(err, ErrMismatch) {
		t.Fatalf("file length mismatch: %v", err)
	}
}
