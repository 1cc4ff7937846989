package bt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
)

// fileIndex returns the index of the torrent's file whose path ends in
// suffix.
func fileIndex(t *testing.T, tor *Torrent, suffix string) int {
	t.Helper()
	for _, f := range tor.Files() {
		if !f.Pad && strings.HasSuffix(filepath.ToSlash(f.Path), suffix) {
			return f.Index
		}
	}
	t.Fatalf("no file %q in %s", suffix, tor.Name())
	return -1
}

// TestReaderStreamsFromLibtorrent reads a file while it downloads from a
// rate-limited libtorrent seed: the bytes are exact, and the file read is
// complete before the rest of the torrent.
func TestReaderStreamsFromLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, _ := ltTorrent(t, dir, true, 1<<20, 700_000, 1<<20)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"),
		SeedMode: true, UploadLimit: 512 << 10})

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{ltAddr(t, lt)}})
	if err != nil {
		t.Fatal(err)
	}
	idx := fileIndex(t, tor, "c.dat") // the last file: rarest-first alone would not favour it
	r, err := tor.NewReader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetReadahead(1 << 20)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r.SetContext(ctx)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	left := tor.Left()
	want, err := os.ReadFile(filepath.Join(src, "c.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes that differ from the file's %d", len(got), len(want))
	}
	t.Logf("file read with %d of %d bytes of the torrent still missing", left, tor.Size())
	if left == 0 {
		t.Errorf("the whole torrent was downloaded before the file read finished: the read-ahead window did not lead")
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestReaderOnlyWhatIsRead: with every file skipped, a reader fetches only
// its read-ahead window; Seek and ReadAt read the right bytes.
func TestReaderOnlyWhatIsRead(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 300_000, 2<<20)
	mi := makeTorrent(t, src, 32<<10)
	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"),
		FilePriorities: []int{PrioritySkip, PrioritySkip}, Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	idx := fileIndex(t, tor, "b.bin")
	want, err := os.ReadFile(filepath.Join(src, "sub", "b.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tor.NewReader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.SetContext(ctx)
	r.SetReadahead(64 << 10)
	if _, err := r.Seek(1<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100_000)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, want[1<<20:1<<20+100_000]) {
		t.Fatal("Read after Seek returned the wrong bytes")
	}
	at := make([]byte, 50_000)
	if n, err := r.ReadAt(at, int64(len(want))-50_000); err != nil || n != len(at) {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	if !bytes.Equal(at, want[len(want)-50_000:]) {
		t.Fatal("ReadAt returned the wrong bytes")
	}
	if n, err := r.ReadAt(at, int64(len(want))-10); n != 10 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v; want 10, EOF", n, err)
	}
	if end, _ := r.Seek(0, io.SeekEnd); end != int64(len(want)) {
		t.Fatalf("Seek to the end: %d, want %d", end, len(want))
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read at the end: %d, %v", n, err)
	}
	// Read 100 kB + window 64 kB + 50 kB at the end, in 32 kB pieces: a
	// handful of pieces, far from the torrent's 72.
	if n := tor.Bitfield().Count(); n > 20 {
		t.Errorf("%d of %d pieces downloaded; the reader should have fetched only about 10", n, tor.NumPieces())
	}
	r.Close()
	if _, err := r.Read(buf); !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

// TestReaderContext: a read of a piece nobody has ends with its context.
func TestReaderContext(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 32<<10)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tor.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.SetContext(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", err)
	}
	// Close wakes a blocked Read at once.
	r2, _ := tor.NewReader(0)
	go func() {
		_, err := r2.Read(make([]byte, 10))
		done <- err
	}()
	r2.Close()
	if err := <-done; !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("Read during Close: %v, want ErrReaderClosed", err)
	}
	if _, err := tor.NewReader(5); err == nil {
		t.Fatal("NewReader accepted a file index out of range")
	}
	r.Close()
	tor.Close()
	if _, err := r.ReadAtContext(context.Background(), make([]byte, 1), 0); !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("ReadAt after Close: %v", err)
	}
}

// TestReaderSeekJumpsQueue: a read far from what is downloading does not
// wait behind the seconds of requests already queued at the peer: the bytes
// the peer sends before it are few, not a whole pipeline.
func TestReaderSeekJumpsQueue(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "big", 8<<20)
	mi := makeTorrent(t, src, 64<<10)
	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed"), MaxUploadRate: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	// Let the pipeline grow to its steady size (about 3 s at 1 MiB/s).
	deadline := time.Now().Add(30 * time.Second)
	for tor.Downloaded() < 2<<20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// A piece neither here nor asked for yet.
	target := -1
	tor.call(func() {
		busy := tor.pick.InProgress()
		for i := tor.pick.NumPieces() - 1; i >= 0 && target < 0; i-- {
			if !tor.pick.Have(i) && !slices.Contains(busy, i) {
				target = i
			}
		}
	})
	if target < 0 {
		t.Fatal("every piece is here or in progress")
	}
	r, err := tor.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want, _ := os.ReadFile(filepath.Join(src, "a.dat"))
	buf := make([]byte, 1000)
	off := int64(target)*(64<<10) + 5000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// What the seed sends from the moment the leecher asks for the piece
	// (blocks we cancelled included) until the reader has it. Counting from
	// the request, not from the read, leaves out how long a loaded machine
	// takes to run the loop: the rule under test is the request's place in
	// the queue.
	asked := make(chan int64, 1)
	go func() {
		for ctx.Err() == nil {
			var in bool
			tor.call(func() { in = tor.pick.Have(target) || slices.Contains(tor.pick.InProgress(), target) })
			if in {
				asked <- st.Uploaded()
				return
			}
			time.Sleep(time.Millisecond)
		}
		asked <- st.Uploaded()
	}()
	if _, err := r.ReadAtContext(ctx, buf, off); err != nil {
		t.Fatal(err)
	}
	waited := st.Uploaded() - <-asked
	if !bytes.Equal(buf, want[off:off+1000]) {
		t.Fatal("wrong bytes")
	}
	t.Logf("piece %d: %d KiB arrived before it was served", target, waited>>10)
	if waited > 512<<10 {
		t.Errorf("%d KiB arrived before the piece the reader waited for: it queued behind the pipeline", waited>>10)
	}
	// The cancelled requests are asked again: the rest completes.
	st.SetRateLimits(0, 0)
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "big"))
}
