package bt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
	"github.com/bt-go/bt/storage"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
	"github.com/bt-go/bt/wire/mse"
)

// Errors of a Client.
var (
	// ErrDuplicateTorrent: a torrent with this info hash is already added.
	ErrDuplicateTorrent = errors.New("bt: torrent already added")
	// ErrPortInUse: the listening port is taken by another program.
	ErrPortInUse = errors.New("bt: port already in use")
)

// Client runs torrents. It listens on one port for all of them (the
// incoming handshake's info hash chooses the torrent), identifies itself
// with one peer id ("-BT0010-" and 12 random bytes), and shares a pool of
// hashing goroutines and a global connection limit among its torrents.
// Its methods are safe for concurrent use.
type Client struct {
	cfg     Config
	peerID  [20]byte
	ln      *wire.Listener
	port    int
	hashes  *hashPool
	readers *readPool
	files   *storage.FilePool // open files of all torrents (Config.MaxOpenFiles)
	stateW  stateWriter       // batched writes to the state directory
	conns   atomic.Int32
	state   *resume.Dir     // Config.StateDir (session.go)
	lim     clientLimits    // rate limits (limits.go)
	disc    clientDiscovery // trackers and DHT (dht.go)
	enc     encMemory       // which handshake works with whom (encryption.go)

	mu       sync.Mutex
	torrents map[metainfo.Hash]*Torrent
	skeys    map[[20]byte]metainfo.Hash // HASH('req2', info hash) → info hash, for MSE (encryption.go)
	self     map[netip.AddrPort]bool
	closed   bool
	done     chan struct{} // closed when Close has finished
	stopCtx  func() bool   // releases NewClientContext's hook

	// afterAdd, a test seam, runs in add once the torrent is registered
	// and its loop started, before add goes on (and returns).
	afterAdd func(*Torrent)
	// slowDisk, a test seam, makes every hash job wait this long before
	// hashing and writing, as a slow disk would.
	slowDisk time.Duration
	// beforeSync, a test seam, runs before every fsync a resume save makes.
	beforeSync func()
	// slowRead, a test seam, makes every disk read of a requested block
	// wait this long first; keepAlive, when set, replaces the connections'
	// keep-alive interval.
	slowRead, keepAlive time.Duration

	// onDHTPort is the function SetDHTPortHandler set (the client's own
	// DHT node's AddNode, when it runs one): it receives the DHT port peers
	// announce with the port message (BEP 5), as contacts for the node.
	onDHTPort atomic.Pointer[func(netip.AddrPort)]
}

// NewClient starts a client: it listens (unless cfg.NoListen) and starts
// its hashing goroutines.
func NewClient(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	state, err := openState(&cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		done:     make(chan struct{}),
		state:    state,
		cfg:      cfg,
		peerID:   newPeerID(),
		torrents: make(map[metainfo.Hash]*Torrent),
		skeys:    make(map[[20]byte]metainfo.Hash),
		self:     make(map[netip.AddrPort]bool),
		files:    storage.NewFilePool(cfg.MaxOpenFiles),
	}
	if !cfg.NoListen {
		nl := cfg.Listener
		if nl == nil {
			nl, err = net.Listen("tcp", cfg.ListenAddr)
			if err != nil {
				c.files.Close()
				if errors.Is(err, syscall.EADDRINUSE) {
					return nil, fmt.Errorf("%w: %s", ErrPortInUse, cfg.ListenAddr)
				}
				return nil, fmt.Errorf("bt: listen on %s: %w", cfg.ListenAddr, err)
			}
		}
		c.port = int(addrPortOf(nl.Addr()).Port())
		lc := wire.ListenConfig{
			Torrent:          c.incomingConfig,
			Connected:        c.incoming,
			Error:            c.listenError,
			HandshakeTimeout: cfg.HandshakeTimeout,
		}
		if cfg.Encryption != EncryptionDisabled {
			lc.Wrap = c.acceptMSE // MSE and plaintext on the one port
		}
		c.ln = wire.NewListener(nl, lc)
	}
	c.lim.init(&cfg)
	if err := c.startDiscovery(); err != nil {
		if c.ln != nil {
			c.ln.Close()
		}
		c.files.Close()
		return nil, err
	}
	c.hashes = newHashPool(cfg.HashWorkers)
	c.readers = newReadPool(cfg.DiskReaders)
	if c.state != nil && !cfg.NoRestore {
		c.restore()
	}
	return c, nil
}

// Port returns the listening port (0 when not listening).
func (c *Client) Port() int { return c.port }

// PeerID returns the client's peer id.
func (c *Client) PeerID() [20]byte { return c.peerID }

// Config returns the configuration in use, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// SetDHTPortHandler sets the function that receives the address and DHT
// port of every peer that sends a port message (BEP 5).
func (c *Client) SetDHTPortHandler(f func(addr netip.AddrPort)) { c.onDHTPort.Store(&f) }

func (c *Client) dhtPort(peer netip.AddrPort, port uint16) {
	if f := c.onDHTPort.Load(); f != nil && *f != nil && port != 0 {
		(*f)(netip.AddrPortFrom(peer.Addr(), port))
	}
}

// listenError hears the listener's errors: when accepting fails for want
// of a file descriptor, idle files are closed so the listener can go on
// answering (it retries with a back-off).
func (c *Client) listenError(err error) {
	if storage.TooManyFiles(err) {
		storage.RelieveAll()
	}
}

// incomingConfig chooses the torrent of an incoming handshake.
func (c *Client) incomingConfig(h wire.Handshake, remote net.Addr) *wire.Config {
	t := c.Torrent(h.InfoHash)
	if t == nil || t.State() == Stopped || t.closing.Load() {
		return nil
	}
	return t.wireConfig()
}

// incoming hands an accepted connection to its torrent.
func (c *Client) incoming(conn *wire.Conn) {
	t := c.Torrent(conn.InfoHash())
	if t == nil || !sameSKey(conn) || !t.post(func() { t.addConn(conn, true) }) {
		conn.Close()
	}
}

// Torrent returns the torrent with info hash ih, or nil.
func (c *Client) Torrent(ih metainfo.Hash) *Torrent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.torrents[ih]
}

// Torrents returns the client's torrents.
func (c *Client) Torrents() []*Torrent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Torrent, 0, len(c.torrents))
	for _, t := range c.torrents {
		out = append(out, t)
	}
	return out
}

// Add adds a torrent from a magnet link or the path of a .torrent file.
func (c *Client) Add(source string, opts *TorrentOptions) (*Torrent, error) {
	if strings.HasPrefix(strings.ToLower(source), "magnet:") {
		return c.AddMagnet(source, opts)
	}
	return c.AddTorrentFile(source, opts)
}

// AddTorrentFile adds the torrent of a .torrent file.
func (c *Client) AddTorrentFile(path string, opts *TorrentOptions) (*Torrent, error) {
	mi, err := metainfo.LoadFile(path) // bounded: MaxTorrentSize
	if err != nil {
		return nil, fmt.Errorf("bt: %w", err)
	}
	return c.AddTorrent(mi, opts)
}

// AddTorrent adds a torrent from its parsed metainfo.
func (c *Client) AddTorrent(mi *metainfo.MetaInfo, opts *TorrentOptions) (*Torrent, error) {
	if mi == nil {
		return nil, errors.New("bt: nil metainfo")
	}
	return c.add(mi.InfoHash, mi, nil, opts)
}

// AddMagnet adds a torrent from a magnet link; its metadata is fetched
// from peers (ut_metadata) before the download starts. The magnet's x.pe
// peers are dialled.
func (c *Client) AddMagnet(uri string, opts *TorrentOptions) (*Torrent, error) {
	m, err := metainfo.ParseMagnet(uri)
	if err != nil {
		return nil, fmt.Errorf("bt: %w", err)
	}
	return c.add(m.InfoHash, nil, m, opts)
}

func (c *Client) add(ih metainfo.Hash, mi *metainfo.MetaInfo, mag *metainfo.Magnet, opts *TorrentOptions) (*Torrent, error) {
	var o TorrentOptions
	if opts != nil {
		o = *opts
	}
	rec := c.loadResume(ih, &o)
	t := c.newTorrent(ih, mi, mag, &o)
	skey := mse.SKeyHash(ih)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.torrents[ih] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrDuplicateTorrent, ih)
	}
	c.torrents[ih] = t
	c.skeys[skey] = ih
	c.mu.Unlock()
	c.attachResume(t, rec)
	go t.run(o.State)
	if c.afterAdd != nil {
		c.afterAdd(t)
	}
	if mag != nil {
		for _, s := range mag.Peers {
			if ap, err := netip.ParseAddrPort(s); err == nil {
				o.Peers = append(o.Peers, ap)
			}
		}
	}
	if len(o.Peers) > 0 {
		t.AddPeers(o.Peers...)
	}
	return t, nil
}

func (c *Client) newTorrent(ih metainfo.Hash, mi *metainfo.MetaInfo, mag *metainfo.Magnet, o *TorrentOptions) *Torrent {
	t := &Torrent{
		client:     c,
		cfg:        &c.cfg,
		log:        c.cfg.Logger.With("torrent", ih.String()[:8]),
		infoHash:   ih,
		dir:        defaultDir(o.Dir, &c.cfg),
		magnet:     mag,
		cmds:       make(chan func()), // unbuffered: a post succeeds only if the loop takes it
		timeouts:   newMailbox(),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		peers:      make(map[*peer]struct{}),
		byPickID:   make(map[picker.PeerID]*peer),
		known:      make(map[netip.AddrPort]*knownPeer),
		tried:      make(map[netip.AddrPort]time.Time),
		dialing:    make(map[netip.AddrPort]bool),
		banned:     make(map[netip.Addr]bool),
		bannedAddr: make(map[netip.AddrPort]bool),
		bannedID:   make(map[[20]byte]bool),
		pieces:     make(map[int]*pieceBuf),
		evidence:   make(map[int]*failedPiece),
		filePrio:   o.FilePriorities,
	}
	t.disp.fn = o.OnEvent
	t.lim.init(o)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.state = Stopped
	t.stateA.Store(int32(Stopped))
	if o.State != Stopped {
		// Until the loop runs, report the state we are about to enter.
		t.stateA.Store(int32(o.State))
	}
	if mi != nil {
		t.meta.Store(&metaState{mi: mi, info: &mi.Info, layout: mi.Info.Layout()})
	} else {
		// The fetcher exists before any connection of the torrent can be
		// accepted or dialled, so every peer is asked for the metadata.
		t.fetcher = metadata.NewFetcher(ih, metadata.FetcherConfig{Logger: t.log})
	}
	for _, s := range o.PeerSources {
		t.sources = append(t.sources, &sourceState{src: s})
	}
	return t
}

// remove forgets t (Torrent.Close).
func (c *Client) remove(t *Torrent) {
	skey := mse.SKeyHash(t.infoHash)
	c.mu.Lock()
	if c.torrents[t.infoHash] == t {
		delete(c.torrents, t.infoHash)
		delete(c.skeys, skey)
	}
	c.mu.Unlock()
	c.forgetResume(t)
}

// Close closes every torrent and the listener, and waits for all the
// client's goroutines to end.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ts := make([]*Torrent, 0, len(c.torrents))
	for _, t := range c.torrents {
		ts = append(ts, t)
	}
	c.torrents = map[metainfo.Hash]*Torrent{}
	c.skeys = map[[20]byte]metainfo.Hash{}
	c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
	}
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() { defer wg.Done(); t.shutdown() }()
	}
	wg.Wait()
	c.closeDiscovery()
	c.hashes.close()
	c.files.Close()
	c.stateW.wait()
	c.readers.close()
	c.mu.Lock()
	stop := c.stopCtx
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	close(c.done)
	return nil
}

// Done returns a channel that is closed once the client is closed.
func (c *Client) Done() <-chan struct{} { return c.done }

// NewClientContext is NewClient for a client that closes itself (see
// Close) when ctx ends.
func NewClientContext(ctx context.Context, cfg Config) (*Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	c.mu.Lock()
	c.stopCtx = stop
	c.mu.Unlock()
	return c, nil
}

func (c *Client) noteSelf(a netip.AddrPort) {
	c.mu.Lock()
	c.self[a] = true
	c.mu.Unlock()
}

func (c *Client) isSelf(a netip.AddrPort) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.self[a]
}

func (c *Client) acquireConn() bool {
	if c.conns.Add(1) > int32(c.cfg.MaxConns) {
		c.conns.Add(-1)
		return false
	}
	return true
}

func (c *Client) releaseConn() { c.conns.Add(-1) }
