package dht

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultK               = 8
	DefaultAlpha           = 4
	DefaultQueryTimeout    = 2 * time.Second
	DefaultMaxPeersPerHash = 256
	DefaultMaxPeers        = 32768
	DefaultMaxInfoHashes   = 8192
	DefaultQueryRate       = 25 // queries per second per source IP
	DefaultQueryBurst      = 50
)

// Limits that are not configurable.
const (
	maxTxns          = 8192 // outstanding queries of a Server
	maxServerPings   = 256  // outstanding pings of our own (AddNode, verification, liveness)
	maxRateTracked   = 4096 // source IPs tracked by the rate limiter
	readBufferSize   = 8192 // larger datagrams are truncated and so fail to parse
	amplificationMax = 4    // a reply is at most this many times the size of its query
)

// Errors returned by Server methods.
var (
	ErrClosed  = errors.New("dht: server closed")
	ErrNoNodes = errors.New("dht: no node accepted the announce")
	errBusy    = errors.New("dht: too many outstanding queries")
)

// Config configures a Server. Only one of Addr and PacketConn is needed.
type Config struct {
	// Addr is the UDP address to listen on, such as "127.0.0.1:6881" or
	// ":6881" (dual-stack). Default ":0".
	Addr string
	// PacketConn, if set, is used instead of opening Addr. The Server owns it
	// and closes it on Close.
	PacketConn net.PacketConn

	// ID is our node id. If zero, the id saved in StateFile is reused, else
	// one is derived from ExternalIP by BEP 42, else a random id is chosen.
	ID ID
	// ExternalIP, if known, is used to choose a BEP 42 node id.
	ExternalIP netip.Addr

	// Bootstrap lists "host:port" nodes to join the DHT through. Host names
	// are resolved when the Server starts.
	Bootstrap []string
	// StateFile, if set, is where the routing table is saved (periodically
	// and on Close) and loaded from on start.
	StateFile string

	// ReadOnly puts the node in BEP 43 read-only mode: it sets "ro" in its
	// queries and answers no queries.
	ReadOnly bool

	// EnforceSecureIDs applies BEP 42's enforcement: a responder whose id
	// does not match its IP address (local addresses are exempt) is not put
	// in the routing table, does not count towards the end of a lookup, and
	// is not sent announce_peer; the nodes and peers it returns are still
	// used, and its queries are still answered. Off by default, as BEP 42
	// asks during its transition period; such responders are counted in
	// Stats.NonSecureIDs either way.
	EnforceSecureIDs bool

	K            int           // bucket size; default DefaultK
	Alpha        int           // lookup parallelism; default DefaultAlpha
	QueryTimeout time.Duration // default DefaultQueryTimeout

	MaxPeersPerHash int // peers stored per info hash; default DefaultMaxPeersPerHash
	MaxPeers        int // peers stored in total; default DefaultMaxPeers
	MaxInfoHashes   int // info hashes stored; default DefaultMaxInfoHashes

	// QueryRate and QueryBurst limit the queries served per source IP (a
	// token bucket); queries beyond the limit are dropped. QueryRate < 0
	// disables the limit (for tests running many nodes on one address).
	QueryRate  float64
	QueryBurst int

	// Logger receives debug and warning logs; default: discarded.
	Logger *slog.Logger
}

func setDefaults(c *Config) {
	if c.K <= 0 {
		c.K = DefaultK
	}
	if c.Alpha <= 0 {
		c.Alpha = DefaultAlpha
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.MaxPeersPerHash <= 0 {
		c.MaxPeersPerHash = DefaultMaxPeersPerHash
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxInfoHashes <= 0 {
		c.MaxInfoHashes = DefaultMaxInfoHashes
	}
	if c.QueryRate == 0 {
		c.QueryRate = DefaultQueryRate
	}
	if c.QueryBurst <= 0 {
		c.QueryBurst = DefaultQueryBurst
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
