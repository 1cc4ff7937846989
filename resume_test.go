package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// eventLog records a torrent's events for a test.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	done   chan struct{} // closed at the first EventCheckDone
	once   sync.Once
}

func newEventLog() *eventLog { return &eventLog{done: make(chan struct{})} }

func (l *eventLog) on(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	if e.Type == EventCheckDone {
		l.once.Do(func() { close(l.done) })
	}
}

func (l *eventLog) pieces(typ EventType) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e.Piece)
		}
	}
	slices.Sort(out)
	return out
}

func (l *eventLog) waitCheck(t *testing.T) {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(20 * time.Second):
		t.Fatal("no EventCheckDone")
	}
}

// resumeFixture is a torrent whose data is complete in dir/data.
type resumeFixture struct {
	mi    *metainfo.MetaInfo
	dir   string // download directory
	state string
}

func newResumeFixture(t *testing.T) *resumeFixture {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "data"), "tree", 100_000, 60_000, 0, 150_000)
	return &resumeFixture{mi: makeTorrent(t, src, 16<<10), dir: filepath.Join(dir, "data"),
		state: filepath.Join(dir, "state")}
}

// start adds the torrent to a new client on the state directory and waits
// for its initial check.
func (f *resumeFixture) start(t *testing.T) (*Client, *Torrent, *eventLog) {
	t.Helper()
	c := newTestClient(t, Config{NoListen: true, StateDir: f.state, NoRestore: true})
	log := newEventLog()
	tor, err := c.AddTorrent(f.mi, &TorrentOptions{Dir: f.dir, OnEvent: log.on})
	if err != nil {
		t.Fatal(err)
	}
	log.waitCheck(t)
	return c, tor, log
}

// fileOfLength returns the index of the file of length n.
func (f *resumeFixture) fileOfLength(t *testing.T, n int64) int {
	for i, fe := range f.mi.Info.Layout().Files {
		if fe.Length == n {
			return i
		}
	}
	t.Fatalf("no file of %d bytes", n)
	return -1
}

func (f *resumeFixture) filePath(i int) string {
	return filepath.Join(append([]string{f.dir}, f.mi.Info.Layout().Files[i].Path...)...)
}

func allPieces(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestResumeNoRecheck: the second start trusts the record: no piece is
// hashed, and the torrent is complete at once.
func TestResumeNoRecheck(t *testing.T) {
	f := newResumeFixture(t)
	c, tor, log := f.start(t)
	n := f.mi.Info.NumPieces()
	if got := log.pieces(EventHashPass); len(got) != n || !tor.Seeding() {
		t.Fatalf("first start: %d of %d pieces passed", len(got), n)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(f.state, f.mi.InfoHash.String()+".resume")); err != nil {
		t.Fatalf("no resume file: %v", err)
	}
	c, tor, log = f.start(t)
	defer c.Close()
	if got := log.pieces(EventHashPass); len(got) != 0 {
		t.Fatalf("resumed start hashed %d pieces", len(got))
	}
	if !tor.Seeding() || !tor.Complete() {
		t.Fatalf("resumed: seeding %v complete %v, have %d/%d", tor.Seeding(), tor.Complete(), tor.Bitfield().Count(), n)
	}
}

// TestResumeFileChanged: a file whose time or size changed has its pieces,
// and only those, checked again; damage in it is found.
func TestResumeFileChanged(t *testing.T) {
	f := newResumeFixture(t)
	c, _, _ := f.start(t)
	c.Close()
	l := f.mi.Info.Layout()
	// Damage a file in its middle piece and move its time.
	fi := f.fileOfLength(t, 60_000)
	path := f.filePath(fi)
	p, _ := os.ReadFile(path)
	first, end := l.FilePieces(fi)
	mid := (first + end) / 2
	off := int64(mid)*l.PieceLength - l.Files[fi].Offset + 10
	p[off] ^= 0xff
	os.WriteFile(path, p, 0o644)
	os.Chtimes(path, time.Now(), time.Now().Add(time.Minute))

	c, tor, log := f.start(t)
	defer c.Close()
	checked := append(log.pieces(EventHashPass), mid)
	slices.Sort(checked)
	if want := allPieces(end)[first:]; !slices.Equal(checked, want) {
		t.Fatalf("checked pieces %v, want those of file %d: %v", checked, fi, want)
	}
	bf := tor.Bitfield()
	if bf.Has(mid) || bf.Count() != l.NumPieces-1 {
		t.Fatalf("after the recheck: have %v", bf)
	}
}

// TestResumeFileDeleted: a deleted file's pieces are no longer had.
func TestResumeFileDeleted(t *testing.T) {
	f := newResumeFixture(t)
	c, _, _ := f.start(t)
	c.Close()
	fi := f.fileOfLength(t, 150_000)
	os.Remove(f.filePath(fi))
	c, tor, log := f.start(t)
	defer c.Close()
	first, end := f.mi.Info.Layout().FilePieces(fi)
	if got := log.pieces(EventHashPass); len(got) != 0 {
		t.Fatalf("hashed %v", got)
	}
	bf := tor.Bitfield()
	for i := range f.mi.Info.NumPieces() {
		if bf.Has(i) == (i >= first && i < end) {
			t.Fatalf("have %v; the pieces of file %d [%d,%d) must be missing, the others had", bf, fi, first, end)
		}
	}
}

// TestResumeBadRecord: corrupt, truncated and foreign records are ignored
// in favour of a full check.
func TestResumeBadRecord(t *testing.T) {
	for name, spoil := range map[string]func(t *testing.T, f *resumeFixture, path string){
		"corrupt": func(t *testing.T, f *resumeFixture, path string) {
			p, _ := os.ReadFile(path)
			p[len(p)/3] ^= 0x20
			os.WriteFile(path, p, 0o600)
		},
		"truncated": func(t *testing.T, f *resumeFixture, path string) {
			st, _ := os.Stat(path)
			os.Truncate(path, st.Size()/2)
		},
		"empty": func(t *testing.T, f *resumeFixture, path string) { os.WriteFile(path, nil, 0o600) },
		"foreign": func(t *testing.T, f *resumeFixture, path string) {
			rec, err := resume.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rec.InfoHash[0] ^= 1
			p, _ := rec.Encode()
			os.WriteFile(path, p, 0o600)
		},
		"mismatch": func(t *testing.T, f *resumeFixture, path string) {
			rec, _ := resume.ReadFile(path)
			rec.Files = rec.Files[:len(rec.Files)-1]
			p, _ := rec.Encode()
			os.WriteFile(path, p, 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newResumeFixture(t)
			c, _, _ := f.start(t)
			c.Close()
			spoil(t, f, filepath.Join(f.state, f.mi.InfoHash.String()+".resume"))
			c, tor, log := f.start(t)
			defer c.Close()
			if got := log.pieces(EventHashPass); len(got) != f.mi.Info.NumPieces() || !tor.Seeding() {
				t.Fatalf("%d of %d pieces checked", len(got), f.mi.Info.NumPieces())
			}
		})
	}
}

// TestResumeDownloadRestart: a download interrupted by closing the client
// continues from its record, fetching only what it did not have.
func TestResumeDownloadRestart(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000, 300_000)
	mi := makeTorrent(t, src, 16<<10)
	// The seed sends slowly until the first session is closed, so that
	// session cannot finish before it is interrupted.
	seeder := newTestClient(t, Config{MaxUploadRate: 256 << 10})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	state, leechDir := filepath.Join(dir, "state"), filepath.Join(dir, "leech")
	c := newTestClient(t, Config{NoListen: true, StateDir: state, NoRestore: true})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: leechDir, Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for tor.Bitfield().Count() < mi.Info.NumPieces()/3 {
		if time.Now().After(deadline) {
			t.Fatal("no progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	seeder.SetRateLimits(0, 0)
	rec, err := resume.ReadFile(filepath.Join(state, mi.InfoHash.String()+".resume"))
	if err != nil {
		t.Fatal(err)
	}
	had := rec.Have.Count()
	if had < mi.Info.NumPieces()/3 || had == mi.Info.NumPieces() {
		t.Fatalf("the record has %d of %d pieces; want at least the %d seen before closing, and not all", had, mi.Info.NumPieces(), mi.Info.NumPieces()/3)
	}

	c2 := newTestClient(t, Config{StateDir: state}) // restores the torrent
	tors := c2.Torrents()
	if len(tors) != 1 || tors[0].Dir() != leechDir {
		t.Fatalf("restored %v", tors)
	}
	tor = tors[0]
	tor.AddPeers(loopback(seeder.Port()))
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(leechDir, "tree"))
	need := mi.Info.TotalLength() - int64(had)*mi.Info.PieceLength
	if got := tor.Downloaded(); got > need+int64(8*mi.Info.PieceLength) {
		t.Errorf("downloaded %d bytes after resuming with %d pieces; %d were missing", got, had, need)
	}
	if tot := tor.TotalDownloaded(); tot < mi.Info.TotalLength() {
		t.Errorf("total downloaded over both sessions %d < %d", tot, mi.Info.TotalLength())
	}
}

// TestRestoreList: the client's torrent list with each torrent's
// directory, state and priorities survives a restart; Torrent.Close
// removes a torrent from it.
func TestRestoreList(t *testing.T) {
	f := newResumeFixture(t)
	dir := t.TempDir()
	other := makeTorrent(t, makeData(t, dir, "other", 50_000, 20_000), 16<<10)
	c := newTestClient(t, Config{NoListen: true, StateDir: f.state})
	a, err := c.AddTorrent(f.mi, &TorrentOptions{Dir: f.dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AddTorrent(other, &TorrentOptions{Dir: filepath.Join(dir, "x"), State: Paused,
		FilePriorities: []int{PriorityHigh, PrioritySkip}})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, a, 10*time.Second)
	_ = b
	c.Close()

	c = newTestClient(t, Config{NoListen: true, StateDir: f.state})
	a, b = c.Torrent(f.mi.InfoHash), c.Torrent(other.InfoHash)
	if a == nil || b == nil {
		t.Fatalf("restored %v", c.Torrents())
	}
	if a.Dir() != f.dir || b.Dir() != filepath.Join(dir, "x") || b.State() != Paused || a.State() != Started {
		t.Fatalf("restored: %s %v, %s %v", a.Dir(), a.State(), b.Dir(), b.State())
	}
	if fs := b.Files(); fs[0].Priority != PriorityHigh || fs[1].Priority != PrioritySkip {
		t.Fatalf("priorities %+v", fs)
	}
	waitSeeding(t, a, 10*time.Second)
	b.Close()
	c.Close()
	list, _ := (&resume.Dir{Path: f.state}).List()
	if len(list) != 1 || list[0] != f.mi.InfoHash {
		t.Fatalf("after Torrent.Close: %v", list)
	}
}

// TestSetFilePriorityWhileRunning: a skipped file is not downloaded; raising
// its priority downloads it at once.
func TestSetFilePriorityWhileRunning(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 200_000, 300_000, 100_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder, _ := seedTorrent(t, Config{}, mi, dir)

	leech := newTestClient(t, Config{NoListen: true})
	prios := []int{PriorityNormal, PrioritySkip, PriorityNormal}
	tor, err := leech.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), FilePriorities: prios,
		Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	files := tor.Files()
	if _, err := os.Stat(files[1].Path); err == nil {
		t.Fatalf("skipped file %s was created", files[1].Path)
	}
	if tor.Seeding() {
		t.Fatal("seeding with a file skipped")
	}
	// Slowed down, the newly wanted 300 KB cannot all arrive before
	// Complete is asked (unlimited, it sometimes did on loopback).
	tor.SetRateLimits(32<<10, 0)
	if err := tor.SetFilePriority(1, PriorityHigh); err != nil {
		t.Fatal(err)
	}
	if tor.Complete() {
		t.Fatal("complete right after raising a skipped file's priority")
	}
	tor.SetRateLimits(0, 0)
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestPriorityOrder: with one seed, the pieces of a high-priority file are
// fetched before those of a low-priority one.
func TestPriorityOrder(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 1<<20, 1<<20)
	mi := makeTorrent(t, src, 16<<10)
	seeder, _ := seedTorrent(t, Config{}, mi, dir)

	l := mi.Info.Layout()
	high := 1 // the second file in the torrent's order
	prios := []int{PriorityHigh, PriorityHigh}
	prios[1-high] = PriorityLow
	log := newEventLog()
	var order []int
	var mu sync.Mutex
	leech := newTestClient(t, Config{NoListen: true})
	tor, err := leech.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), FilePriorities: prios,
		Peers: []netip.AddrPort{loopback(seeder.Port())},
		OnEvent: func(e Event) {
			log.on(e)
			if e.Type == EventHashPass {
				mu.Lock()
				order = append(order, e.Piece)
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	first, end := l.FilePieces(high)
	n := end - first
	early := 0
	mu.Lock()
	for _, p := range order[:min(n, len(order))] {
		if p >= first && p < end {
			early++
		}
	}
	mu.Unlock()
	if early < n*9/10 {
		t.Errorf("only %d of the high-priority file's %d pieces were among the first %d fetched", early, n, n)
	}
}

// TestResumeMagnet: a magnet link's metadata is recorded once fetched, so
// the restored torrent needs no peer to know what it is, and its data is
// trusted from the record.
func TestResumeMagnet(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 200_000, 100_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder, _ := seedTorrent(t, Config{}, mi, dir)

	state := filepath.Join(dir, "state")
	c := newTestClient(t, Config{NoListen: true, StateDir: state})
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	c.Close()
	if _, err := os.Stat(filepath.Join(state, mi.InfoHash.String()+".torrent")); err != nil {
		t.Fatalf("metadata not recorded: %v", err)
	}
	c = newTestClient(t, Config{NoListen: true, StateDir: state})
	tor = c.Torrent(mi.InfoHash)
	if tor == nil || !tor.HasMetadata() {
		t.Fatalf("restored %v without metadata", tor)
	}
	waitSeeding(t, tor, 10*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestResumeSavedOnCompletion: completing a download writes the record at
// once, without waiting for the periodic save or a stop.
func TestResumeSavedOnCompletion(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000, 300_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	state := filepath.Join(dir, "state")
	path := filepath.Join(state, mi.InfoHash.String()+".resume")
	c := newTestClient(t, Config{NoListen: true, StateDir: state, NoRestore: true, ResumeInterval: time.Hour})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	// The record written when the torrent was added (batched with other
	// state writes: soon after Add returns), then the first periodic save
	// (after the initial check); the next is an hour away.
	waitfor.Cond(t, 10*time.Second, "the first periodic save", func() bool {
		var seq uint64
		tor.call(func() { seq = tor.res.seq })
		tor.res.mu.Lock()
		written := tor.res.written
		tor.res.mu.Unlock()
		return seq > 0 && written == seq
	})
	tor.AddPeers(loopback(seeder.Port()))
	waitComplete(t, tor, 30*time.Second)
	waitfor.Cond(t, 10*time.Second, "the record of the completed download", func() bool {
		rec, err := resume.ReadFile(path)
		return err == nil && rec.Have.Count() == mi.Info.NumPieces() && !rec.CompletedAt.IsZero()
	})
}

// TestStopSavesOffTheLoop: the record a stop writes waits for an fsync, and
// the fsync waits here until the test lets it go; meanwhile the torrent's
// loop answers (Stop returns, Peers) and the record is written once it may be.
func TestStopSavesOffTheLoop(t *testing.T) {
	f := newResumeFixture(t)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	entered := make(chan struct{}, 1)
	var armed atomic.Bool
	c := newTestClient(t, Config{NoListen: true, StateDir: f.state, NoRestore: true})
	c.beforeSync = func() {
		if !armed.Load() {
			return
		}
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}
	tor, err := c.AddTorrent(f.mi, &TorrentOptions{Dir: f.dir})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	armed.Store(true)
	answered := make(chan State, 1)
	go func() {
		tor.Stop()  // returns once the loop has stopped the torrent
		tor.Peers() // asks the loop
		answered <- tor.State()
	}()
	waitfor.Recv(t, entered, 10*time.Second, "the stop's fsync")
	if s := waitfor.Recv(t, answered, 10*time.Second, "the loop to answer while the stop's fsync waits"); s != Stopped {
		t.Errorf("state %v, want stopped", s)
	}
	once.Do(func() { close(release) })
	waitfor.Cond(t, 10*time.Second, "the stopped record", func() bool {
		rec, err := resume.ReadFile(filepath.Join(f.state, f.mi.InfoHash.String()+".resume"))
		return err == nil && rec.State == "stopped"
	})
}

// TestResumeSavedAsItGoes: with a long ResumeInterval, the record still
// follows a download that goes on for a while (saved after every
// sixteenth of the torrent, at most every few seconds), so a kill -9
// midway costs little recheck, not everything since the start.
func TestResumeSavedAsItGoes(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 600_000, 400_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder := newTestClient(t, Config{MaxUploadRate: 128 << 10})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	state := filepath.Join(dir, "state")
	c := newTestClient(t, Config{NoListen: true, StateDir: state, NoRestore: true, ResumeInterval: time.Hour})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(state, mi.InfoHash.String()+".resume")
	waitfor.Cond(t, 30*time.Second, "a record of part of the data", func() bool {
		rec, err := resume.ReadFile(path)
		// More than the first save (at the first piece) holds.
		return err == nil && rec.Have.Count() >= mi.Info.NumPieces()/4 && rec.Have.Count() < mi.Info.NumPieces() && !tor.Complete()
	})
}
