package metadata

import (
	"log/slog"
	"sync"
)

// Name is the extension's name in the "m" dictionary of the extended
// handshake.
const Name = "ut_metadata"

// DefaultServeFactor bounds how many pieces one connection is served: this
// many times the number of pieces, plus DefaultServeFactor. Requests beyond
// that are rejected (the flood protection BEP 9 allows).
const DefaultServeFactor = 4

// Config configures an Extension.
type Config struct {
	// Info is the bencoded info dictionary to serve, when we have it. The
	// caller vouches that its SHA-1 is the torrent's info hash.
	Info []byte
	// Fetcher, when set, fetches the metadata through this connection; once
	// it has the metadata, the connection serves it too.
	Fetcher *Fetcher
	// ServeFactor replaces DefaultServeFactor when positive.
	ServeFactor int
	// Logger receives debug logs; slog.Default() if nil.
	Logger *slog.Logger
}

// Extension is ut_metadata on one connection: it serves the info dictionary
// (when known) and feeds a shared Fetcher (when fetching). Create it with New
// and install it with the connection's Use before the handshakes.
type Extension struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	peer     *fetchPeer // our registration with cfg.Fetcher, if any
	peerSize int64      // the metadata_size the peer announced
	served   int
	dropped  bool // withdrawn from the Fetcher for good
	closed   bool
}

// New returns a ut_metadata extension for one connection.
func New(cfg Config) *Extension {
	if cfg.ServeFactor <= 0 {
		cfg.ServeFactor = DefaultServeFactor
	}
	e := &Extension{cfg: cfg, log: cfg.Logger}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e
}

// info returns the metadata we can serve, or nil.
func (e *Extension) info() []byte {
	if e.cfg.Info != nil {
		return e.cfg.Info
	}
	if e.cfg.Fetcher != nil {
		return e.cfg.Fetcher.Metadata()
	}
	return nil
}

// metadataSize is the metadata_size to put in our extended handshake, or 0
// to leave it out.
func (e *Extension) metadataSize() int64 {
	return int64(len(e.info()))
}

// handshake handles the remote's extended handshake: key identifies the peer
// (its address), size is its metadata_size (0 if absent), supported whether
// it speaks ut_metadata, send sends one of our messages to it.
func (e *Extension) handshake(key string, size int64, supported bool, send func([]byte) error) {
	f := e.cfg.Fetcher
	if f == nil {
		return
	}
	e.mu.Lock()
	if e.closed || e.dropped {
		e.mu.Unlock()
		return
	}
	old := e.peer
	if old != nil && supported && size == e.peerSize {
		e.mu.Unlock()
		return // a repeated handshake with nothing new for us
	}
	e.peer = nil
	e.peerSize = size
	e.dropped = old != nil
	e.mu.Unlock()
	if old != nil {
		// The peer withdrew ut_metadata or changed its metadata_size in
		// the middle of the fetch: it is not asked again on this connection.
		f.removePeer(old)
		return
	}
	if !supported {
		return
	}
	p := f.addPeer(key, size, send)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		if p != nil {
			f.removePeer(p)
		}
		return
	}
	e.peer = p
	e.mu.Unlock()
}

// handle processes one message from the remote; an error closes the
// connection.
func (e *Extension) handle(payload []byte, send func([]byte) error) error {
	m, err := ParseMessage(payload)
	if err != nil {
		return err
	}
	switch m.Type {
	case MsgRequest:
		e.serve(m.Piece, send)
	case MsgData, MsgReject:
		e.mu.Lock()
		p := e.peer
		e.mu.Unlock()
		if p == nil {
			return nil // we asked nothing on this connection
		}
		if m.Type == MsgData {
			return e.cfg.Fetcher.onData(p, m)
		}
		e.cfg.Fetcher.onReject(p, m.Piece)
	}
	return nil // other types are ignored (BEP 9)
}

// serve answers a request with the piece, or a reject when we lack the
// metadata, the piece does not exist, or the peer asked too much.
func (e *Extension) serve(piece int, send func([]byte) error) {
	info := e.info()
	n := numPieces(int64(len(info)))
	e.mu.Lock()
	ok := info != nil && piece < n && e.served < e.cfg.ServeFactor*(n+1)
	if ok {
		e.served++
	}
	e.mu.Unlock()
	m := Message{Type: MsgReject, Piece: piece}
	if ok {
		start := piece * PieceSize
		m = Message{Type: MsgData, Piece: piece, TotalSize: int64(len(info)),
			Data: info[start : start+pieceLen(int64(len(info)), piece)]}
	}
	payload, err := m.Marshal()
	if err == nil {
		err = send(payload)
	}
	if err != nil {
		e.log.Debug("metadata: answering request", "piece", piece, "err", err)
	}
}

// close withdraws the connection from the Fetcher.
func (e *Extension) close() {
	e.mu.Lock()
	p := e.peer
	e.peer = nil
	e.closed = true
	e.mu.Unlock()
	if p != nil {
		e.cfg.Fetcher.removePeer(p)
	}
}
