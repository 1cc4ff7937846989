package wire

import (
	"log/slog"
	"time"
)

// Limits and defaults.
const (
	// BlockSize is the block length every current client requests (16 KiB).
	BlockSize = 16 << 10
	// MaxBlockLength is the longest block this package requests or serves
	// (128 KiB), whatever Config.MaxRequestLength says.
	MaxBlockLength = 128 << 10
	// MaxFrame bounds the length of a received message (1 MiB). A bitfield
	// larger than that, for a torrent of more than eight million pieces, is
	// allowed up to its exact size.
	MaxFrame = 1 << 20

	// Defaults of the Config fields of the same names.
	DefaultMaxRequestLength = BlockSize
	DefaultMaxPeerRequests  = 250
	DefaultMaxDuplicates    = 64
	DefaultKeepAlive        = 90 * time.Second
	DefaultIdleTimeout      = 3 * time.Minute
	DefaultReadBufferSize   = 64 << 10
	DefaultClientVersion    = "bt-go/0.1"
)

// Config describes our side of a connection. The zero value of every field
// but InfoHash and PeerID is usable.
type Config struct {
	// InfoHash is the torrent's info hash; PeerID is our peer id.
	InfoHash [20]byte
	PeerID   [20]byte

	// DHT sets the DHT bit of our handshake (BEP 5); send Port afterwards.
	DHT bool
	// DisableFast and DisableExtensions clear the Fast (BEP 6) and Extension
	// protocol (BEP 10) bits, which are set by default.
	DisableFast, DisableExtensions bool

	// PieceLength and TotalLength give the torrent's geometry, used to size
	// the peer's bitfield and to check indices and requests. Leave them zero
	// while unknown (a magnet link) and call Conn.SetTorrentSize later.
	PieceLength, TotalLength int64

	// MaxRequestLength is the longest block the peer may request
	// (default 16 KiB, as BEP 3 says; at most MaxBlockLength). A longer
	// request closes the connection.
	MaxRequestLength int
	// MaxPeerRequests bounds the peer's pending requests; it is the reqq
	// we advertise (default 250). Requests past it are rejected.
	MaxPeerRequests int
	// MaxDuplicates bounds the peer's duplicate requests (default 64): a
	// request for a block it has already requested and not canceled, or
	// that we have just queued or sent to it twice, is not answered
	// again, and the connection is closed with ErrDuplicateRequests once
	// more than MaxDuplicates have arrived. Each block served forgives one.
	MaxDuplicates int

	// RequestTimeout, if positive, fails the head request when it is not
	// answered in time (see Conn.SetTimeout).
	RequestTimeout time.Duration
	// KeepAlive is the idle time after which we send a keep-alive (default
	// 90 s; negative: never).
	KeepAlive time.Duration
	// IdleTimeout closes the connection when nothing arrives for that long
	// (default 3 minutes; negative: never).
	IdleTimeout time.Duration

	// ClientVersion ("v") and ListenPort ("p") go into our extended handshake.
	ClientVersion string
	ListenPort    int

	// ReadBufferSize is the size of the read buffer (default 64 KiB). It is
	// taken from a pool only while data streams in or a long message is
	// read: an idle connection holds none.
	ReadBufferSize int
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
}

func (cfg *Config) withDefaults() Config {
	c := *cfg
	if c.MaxRequestLength <= 0 {
		c.MaxRequestLength = DefaultMaxRequestLength
	}
	c.MaxRequestLength = min(c.MaxRequestLength, MaxBlockLength)
	if c.MaxPeerRequests <= 0 {
		c.MaxPeerRequests = DefaultMaxPeerRequests
	}
	if c.MaxDuplicates <= 0 {
		c.MaxDuplicates = DefaultMaxDuplicates
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ClientVersion == "" {
		c.ClientVersion = DefaultClientVersion
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = DefaultReadBufferSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Handshake returns our handshake for cfg.
func (cfg *Config) Handshake() Handshake {
	h := Handshake{InfoHash: cfg.InfoHash, PeerID: cfg.PeerID}
	h.Reserved.SetDHT(cfg.DHT)
	h.Reserved.SetFast(!cfg.DisableFast)
	h.Reserved.SetExtended(!cfg.DisableExtensions)
	return h
}
