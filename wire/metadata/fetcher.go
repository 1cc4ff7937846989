package metadata

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bt-go/bt/metainfo"
)

// Defaults for FetcherConfig.
const (
	// DefaultMaxSize is the largest metadata_size a Fetcher accepts: 32 MiB,
	// about twice libtorrent's limit (30 MiB) and far above real info
	// dictionaries (a 1 TiB torrent with 16 MiB pieces has 1.3 MB).
	DefaultMaxSize = 32 << 20
	// DefaultRequestTimeout is how long a peer may take to answer one
	// request before the piece is asked of another peer, while no peer has
	// answered yet. Once one has, the time-out is four times the quickest
	// answer seen, within [DefaultMinRequestTimeout, RequestTimeout].
	DefaultRequestTimeout    = 5 * time.Second
	DefaultMinRequestTimeout = time.Second
	// maxRedundancy is how many peers a missing piece is asked of at once
	// when every missing piece is already asked of someone: a silent or
	// lying peer then delays nobody.
	maxRedundancy = 3
	// DefaultMaxOutstanding is how many requests one peer may have
	// outstanding.
	DefaultMaxOutstanding = 8
	// DefaultMaxRejects and DefaultMaxTimeouts are how many rejected and
	// timed-out requests a peer may have before it is no longer asked.
	DefaultMaxRejects  = 3
	DefaultMaxTimeouts = 2
)

// ErrClosed is returned by Fetcher.Wait after Close.
var ErrClosed = errors.New("metadata: fetcher closed")

// FetcherConfig configures a Fetcher. The zero value uses the defaults.
type FetcherConfig struct {
	MaxSize           int64         // DefaultMaxSize if 0
	RequestTimeout    time.Duration // DefaultRequestTimeout if 0
	MinRequestTimeout time.Duration // DefaultMinRequestTimeout if 0
	MaxOutstanding    int           // DefaultMaxOutstanding if 0
	MaxRejects        int           // DefaultMaxRejects if 0
	MaxTimeouts       int           // DefaultMaxTimeouts if 0
	Clock             Clock         // the real clock if nil
	Logger            *slog.Logger  // slog.Default() if nil
}

// Fetcher downloads the metadata (the info dictionary) of one torrent from the
// connections whose Extension shares it, for a magnet link. It decides which
// piece to ask of which peer, retries pieces that are rejected or time out
// with other peers, and checks the assembled metadata against the info hash.
// Methods are safe for concurrent use.
//
// Hostile peers are expected: a peer whose metadata_size is not positive or
// exceeds MaxSize is not asked; peers announcing different sizes are asked
// one size at a time (the first announced, then others if its peers fail);
// data that was not asked for is ignored; a piece of the wrong length, or a
// data message whose total_size differs, ends the peer's part in the fetch.
// When the assembled metadata fails the hash, a peer that supplied all of it
// is banned (never asked again by this Fetcher, even on a new connection
// from the same address) and its connection closed; when several did, the
// Fetcher asks one peer at a time until the culprit is found. A data message
// for a piece that does not exist also closes the connection.
//
// No peer can hold the fetch up: once every missing piece is asked of
// someone, a peer with room is asked for pieces already asked of others (up
// to three peers a piece), peers that have answered are asked first, and a
// request times out after a few times the quickest answer seen. A late
// answer is still taken.
type Fetcher struct {
	infoHash [20]byte
	cfg      FetcherConfig
	clock    Clock
	log      *slog.Logger
	done     chan struct{}

	mu       sync.Mutex
	peers    []*fetchPeer        // registered and not removed, in order
	banned   map[string]struct{} // keys of peers whose data failed the hash
	size     int64               // the size being fetched; 0 until a peer gives one
	pieces   [][]byte            // received pieces, nil when missing
	from     []*fetchPeer        // who supplied each piece
	inflight []int               // outstanding requests per piece
	have     int
	single   bool       // after a hash failure with several suppliers: one peer at a time
	source   *fetchPeer // in single mode, the peer asked
	timer    Timer
	quickest time.Duration // the quickest answer seen; 0 before any
	result   []byte
	closed   bool
}

type fetchPeer struct {
	key      string
	size     int64
	send     func(payload []byte) error
	pending  map[int]time.Time // piece → when asked
	late     map[int]bool      // pieces whose request timed out: an answer is still taken
	refused  map[int]bool      // pieces it rejected
	answered int
	rejects  int
	timeouts int
	dead     bool // no longer asked
	slow     bool // dead only for time-outs: revived when nobody else is left
	suspect  bool // supplied part of metadata that failed the hash
}

// NewFetcher returns a Fetcher for the torrent with the given info hash
// (a metainfo.Hash converts implicitly).
func NewFetcher(infoHash [20]byte, cfg FetcherConfig) *Fetcher {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MinRequestTimeout <= 0 {
		cfg.MinRequestTimeout = DefaultMinRequestTimeout
	}
	cfg.MinRequestTimeout = min(cfg.MinRequestTimeout, cfg.RequestTimeout)
	if cfg.MaxOutstanding <= 0 {
		cfg.MaxOutstanding = DefaultMaxOutstanding
	}
	if cfg.MaxRejects <= 0 {
		cfg.MaxRejects = DefaultMaxRejects
	}
	if cfg.MaxTimeouts <= 0 {
		cfg.MaxTimeouts = DefaultMaxTimeouts
	}
	f := &Fetcher{
		infoHash: infoHash,
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		done:     make(chan struct{}),
		banned:   make(map[string]struct{}),
	}
	if f.clock == nil {
		f.clock = realClock{}
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	return f
}

// InfoHash returns the info hash the metadata is checked against.
func (f *Fetcher) InfoHash() [20]byte { return f.infoHash }

// Done is closed when the metadata has been fetched and verified, or the
// Fetcher closed.
func (f *Fetcher) Done() <-chan struct{} { return f.done }

// Metadata returns the verified info dictionary, or nil before it is
// complete.
func (f *Fetcher) Metadata() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.result
}

// Wait blocks until the metadata is fetched and returns the bencoded info
// dictionary, whose SHA-1 is the info hash; metainfo.ParseInfo parses it. It
// returns ctx's error if ctx ends first, and ErrClosed after Close.
func (f *Fetcher) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.result == nil {
		return nil, ErrClosed
	}
	return f.result, nil
}

// WaitInfo is Wait followed by metainfo.ParseInfo: it returns the parsed
// info dictionary and its bytes. Metadata that matches the info hash but
// does not parse is the torrent's fault; the error says so.
func (f *Fetcher) WaitInfo(ctx context.Context) (*metainfo.Info, []byte, error) {
	b, err := f.Wait(ctx)
	if err != nil {
		return nil, nil, err
	}
	info, err := metainfo.ParseInfo(b)
	if err != nil {
		return nil, b, fmt.Errorf("metadata: fetched info dictionary matches the info hash but is invalid: %w", err)
	}
	return info, b, nil
}

// Progress reports how many pieces of the metadata have arrived, out of how
// many (0 of 0 until a peer has announced a size).
func (f *Fetcher) Progress() (have, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.have, len(f.pieces)
}

// Close abandons the fetch: no more requests are made and Wait returns
// ErrClosed. Closing a Fetcher that has completed keeps its metadata.
func (f *Fetcher) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	f.stopLocked()
	if f.result == nil {
		close(f.done)
	}
}

// finishedLocked reports whether the fetch is over (complete or closed).
func (f *Fetcher) finishedLocked() bool { return f.closed || f.result != nil }

func (f *Fetcher) stopLocked() {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	for _, p := range f.peers {
		clear(p.pending)
	}
	f.peers = nil
}

// request is a request decided under the lock and sent after it.
type request struct {
	p     *fetchPeer
	piece int
}

func (f *Fetcher) sendAll(reqs []request) {
	for _, r := range reqs {
		payload, err := Message{Type: MsgRequest, Piece: r.piece}.Marshal()
		if err == nil {
			err = r.p.send(payload)
		}
		if err != nil {
			f.log.Debug("metadata: sending request", "peer", r.p.key, "piece", r.piece, "err", err)
		}
	}
}

// addPeer registers a connection whose peer announced size bytes of metadata.
// It returns nil when the peer is not to be asked.
func (f *Fetcher) addPeer(key string, size int64, send func([]byte) error) *fetchPeer {
	f.mu.Lock()
	if f.finishedLocked() {
		f.mu.Unlock()
		return nil
	}
	if _, ok := f.banned[key]; ok {
		f.mu.Unlock()
		return nil
	}
	if size <= 0 || size > f.cfg.MaxSize {
		f.mu.Unlock()
		f.log.Debug("metadata: ignoring peer's metadata_size", "peer", key, "size", size, "max", f.cfg.MaxSize)
		return nil
	}
	p := &fetchPeer{key: key, size: size, send: send, pending: make(map[int]time.Time), late: make(map[int]bool), refused: make(map[int]bool)}
	f.peers = append(f.peers, p)
	reqs := f.scheduleLocked()
	f.mu.Unlock()
	f.sendAll(reqs)
	return p
}

// removePeer forgets a peer whose connection closed (or changed its mind
// about the size) and gives its requests to others.
func (f *Fetcher) removePeer(p *fetchPeer) {
	f.mu.Lock()
	f.markDeadLocked(p)
	for i, q := range f.peers {
		if q == p {
			f.peers = append(f.peers[:i], f.peers[i+1:]...)
			break
		}
	}
	reqs := f.scheduleLocked()
	f.mu.Unlock()
	f.sendAll(reqs)
}

// markDeadLocked stops asking p and frees its outstanding pieces.
func (f *Fetcher) markDeadLocked(p *fetchPeer) {
	p.dead = true
	for i := range p.pending {
		f.release(i)
	}
	clear(p.pending)
}

func (f *Fetcher) release(piece int) {
	if piece < len(f.inflight) && f.inflight[piece] > 0 {
		f.inflight[piece]--
	}
}

// take removes piece from p's outstanding requests and reports whether it
// was there, and since when.
func (f *Fetcher) take(p *fetchPeer, piece int) (time.Time, bool) {
	at, ok := p.pending[piece]
	if !ok {
		return at, false
	}
	delete(p.pending, piece)
	f.release(piece)
	return at, true
}

// timeoutLocked is how long a request may wait: RequestTimeout until a
// peer has answered, then four times the quickest answer, within
// [MinRequestTimeout, RequestTimeout].
func (f *Fetcher) timeoutLocked() time.Duration {
	if f.quickest == 0 {
		return f.cfg.RequestTimeout
	}
	return min(max(4*f.quickest, f.cfg.MinRequestTimeout), f.cfg.RequestTimeout)
}

// Errors that close a connection of the fetch.
var (
	// ErrBadMetadata: the peer alone supplied metadata that fails the
	// info hash.
	ErrBadMetadata = errors.New("metadata: peer's metadata fails the info hash")
	// ErrBadData: a data message for a piece that does not exist, of the
	// wrong length, or with another total_size.
	ErrBadData = errors.New("metadata: bad data message")
)

// onData handles a data message from p. An error means p broke the rules
// or lied, and its connection is to be closed.
func (f *Fetcher) onData(p *fetchPeer, m Message) error {
	f.mu.Lock()
	if f.finishedLocked() {
		f.mu.Unlock()
		return nil
	}
	if n := len(f.pieces); f.size > 0 && (m.Piece < 0 || m.Piece >= n) {
		f.markDeadLocked(p)
		reqs := f.scheduleLocked()
		f.mu.Unlock()
		f.sendAll(reqs)
		return fmt.Errorf("%w: piece %d of %d", ErrBadData, m.Piece, n)
	}
	at, asked := f.take(p, m.Piece)
	late := !asked && p.late[m.Piece]
	if !asked && !late || p.dead && !p.slow {
		f.mu.Unlock() // never asked, or a peer given up: ignore
		return nil
	}
	delete(p.late, m.Piece)
	var err error
	switch {
	case m.TotalSize != f.size || p.size != f.size:
		f.log.Debug("metadata: peer changed total_size", "peer", p.key, "size", m.TotalSize, "want", f.size)
		f.markDeadLocked(p)
		err = fmt.Errorf("%w: total_size %d, announced %d", ErrBadData, m.TotalSize, p.size)
	case len(m.Data) != pieceLen(f.size, m.Piece):
		f.log.Debug("metadata: wrong piece length", "peer", p.key, "piece", m.Piece, "len", len(m.Data))
		f.markDeadLocked(p)
		err = fmt.Errorf("%w: piece %d of %d bytes", ErrBadData, m.Piece, len(m.Data))
	default:
		p.answered++
		if asked {
			if d := f.clock.Now().Sub(at); d > 0 && (f.quickest == 0 || d < f.quickest) {
				f.quickest = d
				if f.timer != nil {
					// Rearmed by scheduleLocked for the shorter time-out.
					f.timer.Stop()
					f.timer = nil
				}
			}
		}
		if f.pieces[m.Piece] == nil {
			f.pieces[m.Piece] = bytes.Clone(m.Data)
			f.from[m.Piece] = p
			f.have++
			f.forgetPieceLocked(m.Piece)
			if f.have == len(f.pieces) {
				f.verifyLocked()
				if _, banned := f.banned[p.key]; banned {
					err = ErrBadMetadata
				}
			}
		}
	}
	reqs := f.scheduleLocked()
	f.mu.Unlock()
	f.sendAll(reqs)
	return err
}

// forgetPieceLocked drops the other requests for a piece that has arrived:
// their answers will be ignored, and those peers have room again.
func (f *Fetcher) forgetPieceLocked(piece int) {
	for _, q := range f.peers {
		f.take(q, piece)
		delete(q.late, piece)
	}
}

// onReject handles a reject message from p.
func (f *Fetcher) onReject(p *fetchPeer, piece int) {
	f.mu.Lock()
	if f.finishedLocked() || p.dead {
		f.mu.Unlock()
		return
	}
	if _, ok := f.take(p, piece); !ok {
		f.mu.Unlock()
		return
	}
	p.refused[piece] = true
	p.rejects++
	if p.rejects >= f.cfg.MaxRejects {
		f.markDeadLocked(p)
	}
	reqs := f.scheduleLocked()
	f.mu.Unlock()
	f.sendAll(reqs)
}

// verifyLocked checks the complete metadata against the info hash.
func (f *Fetcher) verifyLocked() {
	info := make([]byte, 0, f.size)
	for _, p := range f.pieces {
		info = append(info, p...)
	}
	if sha1.Sum(info) == f.infoHash {
		f.result = info
		f.stopLocked()
		close(f.done)
		return
	}
	suppliers := make(map[*fetchPeer]struct{})
	for _, p := range f.from {
		suppliers[p] = struct{}{}
	}
	if len(suppliers) == 1 {
		for p := range suppliers {
			f.log.Debug("metadata: peer's metadata fails the info hash; banned", "peer", p.key)
			f.banned[p.key] = struct{}{}
			f.markDeadLocked(p)
		}
	} else {
		f.log.Debug("metadata: metadata fails the info hash; asking one peer at a time", "suppliers", len(suppliers))
		for p := range suppliers {
			p.suspect = true
		}
		f.single = true
	}
	f.source = nil
	f.resetPiecesLocked()
}

// resetPiecesLocked discards every received piece and outstanding request.
func (f *Fetcher) resetPiecesLocked() {
	n := numPieces(f.size)
	f.pieces = make([][]byte, n)
	f.from = make([]*fetchPeer, n)
	f.inflight = make([]int, n)
	f.have = 0
	for _, p := range f.peers {
		clear(p.pending)
		clear(p.late)
	}
}

// chooseSizeLocked makes sure the size being fetched is one some live peer
// announced: the current one if any live peer still has it, else the size
// most live peers announced.
func (f *Fetcher) chooseSizeLocked() {
	count := make(map[int64]int)
	best := int64(0)
	for _, p := range f.peers {
		if p.dead {
			continue
		}
		if p.size == f.size {
			return
		}
		count[p.size]++
		if best == 0 || count[p.size] > count[best] {
			best = p.size
		}
	}
	if best != 0 {
		f.size = best
		f.source = nil
		f.resetPiecesLocked()
	}
}

// scheduleLocked assigns missing pieces to peers with room for requests and
// returns the requests to send.
func (f *Fetcher) scheduleLocked() []request {
	if f.finishedLocked() {
		return nil
	}
	f.chooseSizeLocked()
	if f.size == 0 {
		return nil
	}
	var askable []*fetchPeer
	if f.single {
		if f.source == nil || f.source.dead {
			f.source = f.pickSourceLocked()
			if f.have > 0 {
				f.resetPiecesLocked() // pieces of the previous source must not mix
			}
		}
		if f.source != nil {
			askable = []*fetchPeer{f.source}
		}
	} else {
		askable = f.askableLocked()
	}
	now := f.clock.Now()
	var reqs []request
	for _, p := range askable {
		// Pieces nobody is asked for first, then (all being asked) those
		// asked of the fewest peers, up to maxRedundancy.
		for pass := 1; pass <= maxRedundancy && len(p.pending) < f.cfg.MaxOutstanding; pass++ {
			for i := range f.pieces {
				if len(p.pending) >= f.cfg.MaxOutstanding {
					break
				}
				if f.pieces[i] != nil || f.inflight[i] >= pass || p.refused[i] {
					continue
				}
				if _, ok := p.pending[i]; ok {
					continue
				}
				p.pending[i] = now
				f.inflight[i]++
				reqs = append(reqs, request{p, i})
			}
			if f.single {
				break // one source: no redundancy
			}
		}
	}
	f.armTimerLocked()
	return reqs
}

// armTimerLocked starts the time-out timer if requests are outstanding.
func (f *Fetcher) armTimerLocked() {
	if f.timer != nil {
		return
	}
	now := f.clock.Now()
	var first time.Time
	for _, p := range f.peers {
		for _, at := range p.pending {
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
	}
	if !first.IsZero() {
		f.timer = f.clock.AfterFunc(max(first.Add(f.timeoutLocked()).Sub(now), 0), f.checkTimeouts)
	}
}

// askableLocked returns the live peers offering the size being fetched,
// those that have answered first, then those with fewer time-outs. When
// only peers given up for their time-outs are left, they are asked again.
func (f *Fetcher) askableLocked() []*fetchPeer {
	var askable []*fetchPeer
	for pass := 0; pass < 2 && len(askable) == 0; pass++ {
		for _, p := range f.peers {
			if p.size != f.size {
				continue
			}
			if p.dead && pass == 1 && p.slow {
				p.dead, p.slow, p.timeouts = false, false, 0
			}
			if !p.dead {
				askable = append(askable, p)
			}
		}
	}
	slices.SortStableFunc(askable, func(a, b *fetchPeer) int {
		if (a.answered > 0) != (b.answered > 0) {
			if a.answered > 0 {
				return -1
			}
			return 1
		}
		return a.timeouts - b.timeouts
	})
	return askable
}

// pickSourceLocked chooses the peer to fetch everything from in single mode,
// preferring peers not suspected.
func (f *Fetcher) pickSourceLocked() *fetchPeer {
	var fallback *fetchPeer
	for _, p := range f.peers {
		if p.dead || p.size != f.size {
			continue
		}
		if !p.suspect {
			return p
		}
		if fallback == nil {
			fallback = p
		}
	}
	return fallback
}

// checkTimeouts runs on the timer: requests older than the time-out
// (timeoutLocked) are asked of other peers; their answers are still taken.
func (f *Fetcher) checkTimeouts() {
	f.mu.Lock()
	f.timer = nil
	if f.finishedLocked() {
		f.mu.Unlock()
		return
	}
	now := f.clock.Now()
	timeout := f.timeoutLocked()
	var next time.Time
	for _, p := range f.peers {
		for i, at := range p.pending {
			if deadline := at.Add(timeout); now.Before(deadline) {
				if next.IsZero() || deadline.Before(next) {
					next = deadline
				}
				continue
			}
			f.take(p, i)
			p.late[i] = true
			p.timeouts++
			f.log.Debug("metadata: request timed out", "peer", p.key, "piece", i, "after", timeout)
		}
		if p.timeouts >= f.cfg.MaxTimeouts && !p.dead {
			f.markDeadLocked(p)
			p.slow = true
		}
	}
	if !next.IsZero() {
		f.timer = f.clock.AfterFunc(next.Sub(now), f.checkTimeouts)
	}
	reqs := f.scheduleLocked() // new requests' deadlines come after next
	f.mu.Unlock()
	f.sendAll(reqs)
}
