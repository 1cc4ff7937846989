package bt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/choker"
	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
	"github.com/bt-go/bt/wire/metadata"
)

// State is a torrent's run state, as the seed client defines it.
type State int32

const (
	// Started: connections are made and accepted, requests made and
	// filled. The default.
	Started State = iota
	// Paused: connections are kept, made and accepted, but no data moves.
	Paused
	// Stopped: every connection is closed, none is made, incoming ones are
	// refused, files are closed.
	Stopped
)

func (s State) String() string {
	switch s {
	case Started:
		return "started"
	case Paused:
		return "paused"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ErrClosed is returned by methods of a closed Torrent or Client.
var ErrClosed = errors.New("bt: closed")

// TorrentOptions configures a torrent added to a Client.
type TorrentOptions struct {
	// Dir is the download directory (the seed's basedir); a multi-file
	// torrent makes a directory of its name below it. Default: the
	// client's DataDir.
	Dir string
	// State is the initial state; the zero value is Started.
	State State
	// OnEvent receives the torrent's events (hash pass/fail, completion,
	// errors...), in order, from a goroutine of the client's: it may call
	// the Torrent's methods.
	OnEvent func(Event)
	// FilePriorities sets the files' initial priorities (index as in
	// Files); missing entries are PriorityNormal. PrioritySkip (0) skips a
	// file. Nil means the resume record's priorities, if any.
	FilePriorities []int
	// Peers are addresses to connect to at once.
	Peers []netip.AddrPort
	// PeerSources find more peers (trackers, DHT); see PeerSource.
	PeerSources []PeerSource
	// MaxDownloadRate and MaxUploadRate limit the torrent's payload rates
	// in bytes per second (0: unlimited; the client's limits apply too).
	MaxDownloadRate, MaxUploadRate int64
	// MaxConns bounds the torrent's connections (0: the client's
	// MaxConnsPerTorrent).
	MaxConns int
}

// Torrent is one torrent of a Client. Its state is owned by one goroutine;
// the methods send it requests and wait for the answer, so they are safe for
// concurrent use, and they never block on the network or the disk.
type Torrent struct {
	client   *Client
	cfg      *Config
	log      *slog.Logger
	infoHash metainfo.Hash
	dir      string
	disp     dispatcher
	magnet   *metainfo.Magnet

	cmds     chan func()
	events   chan peerEvent  // made when the first peer connects
	diskDone chan diskResult // made when the first piece is submitted
	timeouts mailbox         // request time-outs, from the connections' writers
	quit     chan struct{}   // closed by Close
	done     chan struct{}   // closed when the loop has ended
	closing  atomic.Bool

	// Published for the peers' read goroutines and for cheap getters.
	meta       atomic.Pointer[metaState]
	have       atomic.Pointer[bitfield.Bitfield]
	serving    atomic.Bool // uploads allowed
	stateA     atomic.Int32
	uploaded   atomic.Int64
	downloaded atomic.Int64

	// Everything below is owned by the loop goroutine.
	state         State
	err           error
	store         *storage.Store
	pick          *picker.Picker
	filePrio      []int
	peers         map[*peer]struct{}
	byPickID      map[picker.PeerID]*peer // by peer.id, the picker's handle
	nextPickID    picker.PeerID
	known         map[netip.AddrPort]*knownPeer // addresses we may dial
	tried         map[netip.AddrPort]time.Time
	dialing       map[netip.AddrPort]bool
	banned        map[netip.Addr]bool
	bannedAddr    map[netip.AddrPort]bool
	bannedID      map[[20]byte]bool
	scratch       []picker.Block
	bufs          sync.Pool // piece buffers
	bg            sync.WaitGroup
	srcWG         sync.WaitGroup
	ctx           context.Context
	cancel        context.CancelFunc
	checkedOnce   bool
	pieces        map[int]*pieceBuf
	evidence      map[int]*failedPiece // pieces that failed their hash, kept until they pass (pieces.go)
	diskBytes     int64
	peakDiskBytes int64 // the most diskBytes has been: back-pressure keeps it near DiskQueueBytes
	writing       int
	checking      bool
	// checkedN and checkN are the running hash check's progress: pieces
	// hashed so far, of how many (written by the checking goroutine).
	checkedN, checkN atomic.Int64
	completed        bool // EventComplete sent for the current wanted set
	syncing          bool
	choke            choker.Choker
	lastChoke        time.Time
	sources          []*sourceState
	fetcher          *metadata.Fetcher // a magnet's, made with the torrent
	waiters          []chan struct{}   // WaitComplete callers
	res              resumeState       // resume data (resume.go)
	rd               readers           // streaming readers (reader.go)
	lim              torrentLimits     // rate and connection limits (limits.go)
	disc             discovery         // trackers and DHT (trackers.go, dht.go)

	pexMu  sync.Mutex
	pexNew []netip.AddrPort // peers learnt by PEX, taken on each tick
}

// metaState is what becomes known with the info dictionary.
type metaState struct {
	mi     *metainfo.MetaInfo
	info   *metainfo.Info
	layout *metainfo.Layout
	store  *storage.Store
}

// call runs f on the loop and waits for it. It returns ErrClosed if the
// torrent is closed.
func (t *Torrent) call(f func()) error {
	ch := make(chan struct{})
	select {
	case t.cmds <- func() { f(); close(ch) }:
	case <-t.done:
		return ErrClosed
	}
	select {
	case <-ch:
		return nil
	case <-t.done:
		return ErrClosed
	}
}

// post hands f to the loop without waiting for it to run. It reports
// false, and f never runs, once the torrent is closing: the channel is
// unbuffered, so nothing is left behind in it when the loop ends.
func (t *Torrent) post(f func()) bool {
	select {
	case t.cmds <- f:
		return true
	case <-t.quit:
		return false
	case <-t.done:
		return false
	}
}

func (t *Torrent) emit(e Event) {
	e.Torrent = t
	t.disp.emit(e)
}

// InfoHash returns the 20-byte SHA-1 of the info dictionary (the seed's
// infohash).
func (t *Torrent) InfoHash() metainfo.Hash { return t.infoHash }

// PeerID returns the peer id the client uses for this torrent.
func (t *Torrent) PeerID() [20]byte { return t.client.peerID }

// Port returns the client's listening port (0 if it does not listen).
func (t *Torrent) Port() int { return t.client.Port() }

// HasMetadata reports whether the info dictionary is known (always true
// for a torrent added from a .torrent; true for a magnet once fetched).
func (t *Torrent) HasMetadata() bool { return t.meta.Load() != nil }

// Metadata returns the torrent's metainfo, or nil while a magnet link's
// metadata is being fetched.
func (t *Torrent) Metadata() *metainfo.MetaInfo {
	if m := t.meta.Load(); m != nil {
		return m.mi
	}
	return nil
}

// Name returns the name the torrent suggests saving under; for a magnet
// without metadata, its display name. It is as the torrent or link wrote
// it: escape its control characters before printing it.
func (t *Torrent) Name() string {
	if m := t.meta.Load(); m != nil {
		return m.info.Name
	}
	if t.magnet != nil {
		return t.magnet.Name
	}
	return ""
}

// Dir returns the download directory.
func (t *Torrent) Dir() string { return t.dir }

// Size returns the total size of the torrent's files (0 before metadata).
func (t *Torrent) Size() int64 {
	if m := t.meta.Load(); m != nil {
		return m.layout.TotalLength
	}
	return 0
}

// PieceLength returns the size of every piece but the last.
func (t *Torrent) PieceLength() int64 {
	if m := t.meta.Load(); m != nil {
		return m.layout.PieceLength
	}
	return 0
}

// NumPieces returns the number of pieces (0 before metadata).
func (t *Torrent) NumPieces() int {
	if m := t.meta.Load(); m != nil {
		return m.layout.NumPieces
	}
	return 0
}

// Uploaded returns the payload bytes sent to peers.
func (t *Torrent) Uploaded() int64 { return t.uploaded.Load() }

// Downloaded returns the payload bytes received from peers (duplicates and
// data of failed pieces included).
func (t *Torrent) Downloaded() int64 { return t.downloaded.Load() }

// State returns the torrent's state.
func (t *Torrent) State() State { return State(t.stateA.Load()) }

// Bitfield returns the pieces we have (verified and written).
func (t *Torrent) Bitfield() bitfield.Bitfield {
	if b := t.have.Load(); b != nil {
		return b.Clone()
	}
	return bitfield.Bitfield{}
}

// Err returns the error that stopped the torrent, if any.
func (t *Torrent) Err() error {
	var err error
	if t.call(func() { err = t.err }) != nil {
		return ErrClosed
	}
	return err
}

// Wanted returns the pieces we neither have nor skip: the seed's wanted.
func (t *Torrent) Wanted() bitfield.Bitfield {
	var w bitfield.Bitfield
	t.call(func() {
		if t.pick == nil {
			return
		}
		w = bitfield.New(t.pick.NumPieces())
		for i := range t.pick.NumPieces() {
			if t.pick.Priority(i) > 0 && !t.pick.Have(i) {
				w.Set(i)
			}
		}
	})
	return w
}

// Left returns the bytes of wanted pieces we do not have yet.
func (t *Torrent) Left() int64 {
	var n int64
	t.call(func() { n = t.left() })
	return n
}

func (t *Torrent) left() int64 {
	if t.pick == nil {
		return -1
	}
	var n int64
	for i := range t.pick.NumPieces() {
		if t.pick.Priority(i) > 0 && !t.pick.Have(i) {
			n += t.pick.PieceSize(i)
		}
	}
	return n
}

// wanted returns the bytes of the wanted pieces (0 before metadata).
func (t *Torrent) wanted() int64 {
	if t.pick == nil {
		return 0
	}
	var n int64
	for i := range t.pick.NumPieces() {
		if t.pick.Priority(i) > 0 {
			n += t.pick.PieceSize(i)
		}
	}
	return n
}

// Complete reports whether every wanted piece is here (which is not to say
// every piece: see Seeding).
func (t *Torrent) Complete() bool {
	var c bool
	t.call(func() { c = t.pick != nil && t.pick.Complete() && t.writing == 0 })
	return c
}

// Seeding reports whether we have every piece of the torrent: the seed's
// seed().
func (t *Torrent) Seeding() bool {
	b := t.have.Load()
	return b != nil && b.All()
}

// Start starts (or resumes) the torrent: connections are made and accepted,
// requests made and filled.
func (t *Torrent) Start() error { return t.setState(Started) }

// Pause keeps the connections but moves no data.
func (t *Torrent) Pause() error { return t.setState(Paused) }

// Stop closes every connection and the files, and refuses incoming peers.
func (t *Torrent) Stop() error { return t.setState(Stopped) }

func (t *Torrent) setState(s State) error {
	var err error
	if e := t.call(func() { err = t.changeState(s) }); e != nil {
		return e
	}
	return err
}

// HashCheck checks the given pieces on disk (all of them when none are
// given), firing EventHashPass or EventHashFail for each and EventCheckDone
// at the end. Pieces that fail are downloaded again. It returns at once.
func (t *Torrent) HashCheck(pieces ...int) error {
	var err error
	if e := t.call(func() { err = t.startCheck(pieces, true) }); e != nil {
		return e
	}
	return err
}

// AddPeers adds addresses to connect to.
func (t *Torrent) AddPeers(addrs ...netip.AddrPort) {
	t.post(func() {
		for _, a := range addrs {
			t.addKnown(a)
		}
		t.dialMore()
	})
}

// WaitComplete blocks until every wanted piece is verified and durable,
// the torrent stops with an error, or ctx ends.
func (t *Torrent) WaitComplete(ctx context.Context) error {
	for {
		var done bool
		var err error
		var wake chan struct{}
		if e := t.call(func() {
			done, err = t.completed, t.err
			if !done && err == nil {
				wake = make(chan struct{})
				t.waiters = append(t.waiters, wake)
			}
		}); e != nil {
			return e
		}
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.done:
			return ErrClosed
		}
	}
}

// Close stops the torrent for good, removes it from its client and waits
// until its goroutines have ended and its events have been delivered.
func (t *Torrent) Close() error {
	t.client.remove(t)
	t.shutdown()
	return nil
}

func (t *Torrent) shutdown() {
	if t.closing.CompareAndSwap(false, true) {
		close(t.quit)
	}
	<-t.done
	t.disp.wait()
}

func defaultDir(dir string, cfg *Config) string {
	if dir == "" {
		dir = cfg.DataDir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}
