package bt

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/bt-go/bt/storage"
)

// Config configures a Client. The zero value is usable: every field left
// zero takes the default documented beside it.
type Config struct {
	// ListenAddr is where the client accepts peers for all its torrents,
	// e.g. ":6881" or "127.0.0.1:0". Default ":0": every interface, IPv4
	// and IPv6, on a port the system picks, which is what a client that
	// other peers must reach needs; give "127.0.0.1:0" (or set NoListen)
	// to accept no one from other machines. Port reports the port in use.
	ListenAddr string
	// NoListen disables accepting connections (we only dial).
	NoListen bool
	// Listener, if not nil, is where the client accepts peers instead of
	// a TCP socket on ListenAddr; Port reports its address's port. The
	// client closes it. With Dial, it lets a client run over another
	// transport: a proxy, or the in-memory network of a simulation.
	Listener net.Listener
	// Dial, if not nil, opens outgoing peer connections instead of TCP.
	Dial func(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
	// DataDir is the default download directory of torrents. Default ".".
	DataDir string

	// MaxConns bounds connections over all torrents. Default 400.
	MaxConns int
	// MaxConnsPerTorrent bounds connections per torrent. Default 80.
	MaxConnsPerTorrent int
	// MaxHalfOpen bounds outgoing dials in progress per torrent. Default 16.
	MaxHalfOpen int

	// MaxDownloadRate and MaxUploadRate limit the payload rates of all
	// torrents together, in bytes per second; 0 means unlimited. See
	// Client.SetRateLimits and TorrentOptions for per-torrent limits.
	MaxDownloadRate, MaxUploadRate int64

	// UploadSlots is the number of regular unchoke slots per torrent
	// (one optimistic slot comes on top). Default 4.
	UploadSlots int
	// NoSeed stops a torrent's uploads once it is complete. By default a
	// complete torrent keeps seeding.
	NoSeed bool

	// RequestQueueTime sizes the request pipeline: each peer is kept busy
	// with about rate × RequestQueueTime of outstanding blocks. Default 3 s.
	RequestQueueTime time.Duration
	// MinRequests and MaxRequests bound the pipeline per peer; it never
	// exceeds the peer's advertised reqq either. Defaults 16 and 1000.
	MinRequests, MaxRequests int
	// RequestTimeout releases a request a peer has not answered (the block
	// is then asked elsewhere). Default 30 s.
	RequestTimeout time.Duration

	// DiskQueueBytes bounds verified piece data waiting to be written; when
	// it is full the client stops reading from peers. Default 128 MiB.
	DiskQueueBytes int64
	// MaxOpenFiles bounds the file handles open for all torrents together
	// (their files and download directories): the least recently used idle
	// one is closed to open another, so the number of torrents and files
	// does not depend on the process's descriptor limit. Default 64 (as
	// anacrolix keeps about 16 and libtorrent 40): enough for the files
	// being read and written at once, and far below the common limit of
	// 1,024, which peers' sockets need.
	MaxOpenFiles int
	// HashWorkers is the number of goroutines hashing and writing pieces
	// for all torrents. Default 4.
	HashWorkers int
	// DiskReaders is the number of goroutines reading the blocks peers
	// request, for all torrents. Default 4.
	DiskReaders int

	// DialTimeout bounds an outgoing TCP connect. Default 10 s.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the BitTorrent handshake. Default 20 s.
	HandshakeTimeout time.Duration
	// Encryption is the policy for Message Stream Encryption (package
	// wire/mse), in Transmission's words; see Encryption. The zero value is
	// EncryptionTolerated.
	Encryption Encryption

	// IdleTimeout drops a peer when neither side has been interested for
	// this long. Default 3 min.
	IdleTimeout time.Duration

	// MaxBadPieces bans a peer (and its IP address) after it sent data for
	// this many pieces that failed their hash, when it cannot be blamed
	// exactly. A peer is cleared of a failure once the piece passes and its
	// blocks prove good, or once another sender of it is proved guilty.
	// Default 5. A peer proved to have sent a bad block is banned
	// at once.
	MaxBadPieces int

	// StateDir keeps the client's torrent list and resume data (see
	// package resume): empty means none, so every start checks the data in
	// full. The bt command uses resume.DefaultDir.
	StateDir string
	// NoRestore, with StateDir, records torrents but does not add the
	// recorded ones again when the client starts (bt download does this).
	NoRestore bool
	// ResumeInterval is how often resume data is written while something
	// changes; it is also written on completion, stop and close. Default
	// 30 s.
	ResumeInterval time.Duration

	// NoTrackers disables announcing to trackers (see Torrent.Trackers).
	NoTrackers bool
	// TrackerNumWant is how many peers an announce asks for. Default 50.
	TrackerNumWant int
	// TrackerMinInterval and TrackerMaxInterval clamp the interval trackers
	// ask for between announces. Defaults 1 minute and 1 hour.
	TrackerMinInterval, TrackerMaxInterval time.Duration

	// DHT runs a DHT node (BEP 5) on UDP at the listening port number, to
	// find peers of non-private torrents without a tracker. Off by
	// default; the bt command turns it on.
	DHT bool
	// DHTBootstrap lists "host:port" nodes the DHT node joins through.
	// Default none: give DefaultDHTBootstrap to join the Internet's DHT.
	// Peers' port messages add nodes too.
	DHTBootstrap []string
	// DHTStateFile keeps the DHT routing table across restarts. Default
	// dht.state in StateDir, or none without a StateDir.
	DHTStateFile string
	// DHTAnnounceInterval is how often a torrent is announced and its
	// peers looked up on the DHT (every minute while it has few peers).
	// Default 15 minutes.
	DHTAnnounceInterval time.Duration

	// Logger receives the client's logs (peers, trackers, disk and
	// resume trouble). Default: none are written, as befits a library;
	// give slog.Default() to see them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.ListenAddr == "" {
		c.ListenAddr = ":0"
	}
	if c.DataDir == "" {
		c.DataDir = "."
	}
	set(&c.MaxConns, 400)
	set(&c.MaxConnsPerTorrent, 80)
	set(&c.MaxHalfOpen, 16)
	set(&c.UploadSlots, 4)
	setD(&c.RequestQueueTime, 3*time.Second)
	set(&c.MinRequests, 16)
	set(&c.MaxRequests, 1000)
	setD(&c.RequestTimeout, 30*time.Second)
	if c.DiskQueueBytes <= 0 {
		c.DiskQueueBytes = 128 << 20
	}
	set(&c.HashWorkers, 4)
	set(&c.MaxOpenFiles, storage.DefaultMaxOpenFiles)
	set(&c.DiskReaders, 4)
	setD(&c.DialTimeout, 10*time.Second)
	setD(&c.HandshakeTimeout, 20*time.Second)
	setD(&c.IdleTimeout, 3*time.Minute)
	set(&c.MaxBadPieces, 5)
	setD(&c.ResumeInterval, 30*time.Second)
	set(&c.TrackerNumWant, 50)
	setD(&c.TrackerMinInterval, time.Minute)
	setD(&c.TrackerMaxInterval, time.Hour)
	setD(&c.DHTAnnounceInterval, DefaultDHTAnnounceInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
