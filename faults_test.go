package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
)

// faultLog records a torrent's events for a test.
type faultLog struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newFaultLog() *faultLog { return &faultLog{ch: make(chan Event, 1024)} }

func (l *faultLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	select {
	case l.ch <- e:
	default:
	}
}

func (l *faultLog) count(typ EventType) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// wait waits for an event of type typ (which may have happened already).
func (l *faultLog) wait(t *testing.T, typ EventType, d time.Duration) Event {
	t.Helper()
	l.mu.Lock()
	for _, e := range l.events {
		if e.Type == typ {
			l.mu.Unlock()
			return e
		}
	}
	l.mu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e := <-l.ch:
			if e.Type == typ {
				return e
			}
		case <-timer.C:
			t.Fatalf("no %v event within %v", typ, d)
		}
	}
}

// waitPieces polls until tor has n pieces.
func waitPieces(t *testing.T, tor *Torrent, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for tor.Bitfield().Count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pieces after %v, want %d", tor.Bitfield().Count(), d, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// faultSeed seeds fresh data (files of the given sizes in dir/seed/name,
// in pieces of pieceLen) on a client of its own, logging its events.
func faultSeed(t *testing.T, dir, name string, pieceLen int64, sizes ...int) (src string, mi *metainfo.MetaInfo, seed *Client, st *Torrent, log *faultLog) {
	t.Helper()
	src = makeData(t, filepath.Join(dir, "seed"), name, sizes...)
	mi = makeTorrent(t, src, pieceLen)
	log = newFaultLog()
	seed = newTestClient(t, Config{})
	st, err := seed.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed"), OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	return src, mi, seed, st, log
}

// faultLeech adds mi to a new client, in state (zero: Started), to be
// downloaded into dir from seed, logging its events.
func faultLeech(t *testing.T, mi *metainfo.MetaInfo, dir string, seed *Client, state State) (*Torrent, *faultLog) {
	t.Helper()
	log := newFaultLog()
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: dir, OnEvent: log.add, State: state,
		Peers: []netip.AddrPort{loopback(seed.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	return tor, log
}

// recheck hash-checks st again and waits for the check to end.
func recheck(t *testing.T, st *Torrent, log *faultLog) {
	t.Helper()
	before := log.count(EventCheckDone)
	if err := st.HashCheck(); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the recheck", func() bool { return log.count(EventCheckDone) > before })
}

// TestCorruptDataNotServed: data changed in place under a seed is found by
// a recheck, and the damaged piece is no longer served: a leecher gets every
// other piece and never a piece that fails its hash.
func TestCorruptDataNotServed(t *testing.T) {
	dir := t.TempDir()
	src, mi, seed, st, seedLog := faultSeed(t, dir, "data", 64<<10, 1<<20)
	f, err := os.OpenFile(filepath.Join(src, "a.dat"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("not the data you are looking for"), 3*64<<10+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	recheck(t, st, seedLog)
	if st.Bitfield().Has(3) || st.Bitfield().Count() != 15 {
		t.Fatalf("after the recheck the seed has %d pieces, piece 3: %v; want 15 without piece 3",
			st.Bitfield().Count(), st.Bitfield().Has(3))
	}

	lt, leechLog := faultLeech(t, mi, filepath.Join(dir, "leech"), seed, 0)
	waitPieces(t, lt, 15, 30*time.Second)
	if lt.Bitfield().Has(3) {
		t.Fatal("the leecher got the corrupt piece")
	}
	if n := leechLog.count(EventHashFail); n != 0 {
		t.Fatalf("the seed served %d pieces that failed their hash", n)
	}
}

// TestTruncatedUnderSeed: a file truncated under a seed fails the reads of
// a leecher's requests; the seed reports it, marks the lost pieces missing,
// rechecks, keeps serving what is intact and never serves bad data.
func TestTruncatedUnderSeed(t *testing.T) {
	dir := t.TempDir()
	src, mi, seed, st, seedLog := faultSeed(t, dir, "data", 64<<10, 512<<10, 512<<10)
	// The second file (pieces 8-15) loses its second half: pieces 12-15.
	if err := os.Truncate(filepath.Join(src, "sub", "b.bin"), 256<<10); err != nil {
		t.Fatal(err)
	}

	lt, leechLog := faultLeech(t, mi, filepath.Join(dir, "leech"), seed, 0)
	e := seedLog.wait(t, EventDataMissing, 30*time.Second)
	t.Logf("seed reported: piece %d: %v", e.Piece, e.Err)
	if e.Piece < 12 || e.Err == nil {
		t.Fatalf("EventDataMissing for piece %d (%v); want one of 12-15 with an error", e.Piece, e.Err)
	}
	waitPieces(t, st, 12, 10*time.Second)
	waitPieces(t, lt, 12, 30*time.Second)
	for i := 12; i < 16; i++ {
		if lt.Bitfield().Has(i) {
			t.Errorf("the leecher got piece %d, whose data is gone", i)
		}
	}
	if n := leechLog.count(EventHashFail); n != 0 {
		t.Fatalf("the seed served %d pieces that failed their hash", n)
	}
	if err := st.Err(); err != nil {
		t.Fatalf("the seed stopped: %v", err)
	}
}

// TestDeletedUnderSeed: a file deleted under a seed is found by a recheck;
// its pieces are marked missing, the torrent keeps going (not an error),
// and a leecher gets only the pieces that are still there.
func TestDeletedUnderSeed(t *testing.T) {
	dir := t.TempDir()
	src, mi, seed, st, seedLog := faultSeed(t, dir, "data", 64<<10, 256<<10, 256<<10)
	if err := os.Remove(filepath.Join(src, "a.dat")); err != nil { // pieces 0-3
		t.Fatal(err)
	}
	recheck(t, st, seedLog)
	waitPieces(t, st, 4, 10*time.Second)
	for i := range 4 {
		if st.Bitfield().Has(i) {
			t.Fatalf("piece %d of the deleted file still marked verified", i)
		}
	}
	if n := seedLog.count(EventHashFail); n != 4 {
		t.Errorf("%d hash fails reported, want the 4 pieces of the deleted file", n)
	}
	if err := st.Err(); err != nil {
		t.Fatalf("a deleted file stopped the seed: %v", err)
	}
	lt, leechLog := faultLeech(t, mi, filepath.Join(dir, "leech"), seed, 0)
	waitPieces(t, lt, 4, 30*time.Second)
	if n := leechLog.count(EventHashFail); n != 0 || lt.Bitfield().Has(0) {
		t.Fatalf("leecher: %d hash fails, piece 0: %v", n, lt.Bitfield().Has(0))
	}
}

// TestStorageErrorStops: a write the storage cannot do (a file stands
// where a directory of the torrent goes) stops the torrent with the error
// reported, once. It needs no privilege, unlike TestDiskFull.
func TestStorageErrorStops(t *testing.T) {
	dir := t.TempDir()
	_, mi, seed, st, _ := faultSeed(t, dir, "tree", 32<<10, 200_000, 100_000)
	lt, log := faultLeech(t, mi, filepath.Join(dir, "leech"), seed, Paused)
	// Once the initial check has found nothing, block the second file's
	// directory, then start: the first writes there fail.
	log.wait(t, EventCheckDone, 10*time.Second)
	if err := os.MkdirAll(filepath.Join(dir, "leech", "tree"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "leech", "tree", "sub"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lt.Start(); err != nil {
		t.Fatal(err)
	}
	e := log.wait(t, EventError, 30*time.Second)
	t.Logf("error event: %v (%d pieces verified)", e.Err, log.count(EventHashPass))
	waitfor.Cond(t, 10*time.Second, "the torrent to stop", func() bool { return lt.State() == Stopped && len(st.Peers()) == 0 })
	if lt.Err() == nil || log.count(EventError) != 1 {
		t.Fatalf("stopped with error %v after %d error events, want one", lt.Err(), log.count(EventError))
	}
}
