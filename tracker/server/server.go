// Package server is a small BitTorrent tracker: HTTP announce and scrape
// (BEP 3, BEP 23 compact peers, BEP 7 IPv6 peers, BEP 48 scrape) and the UDP
// tracker protocol (BEP 15), for a private swarm on a LAN, for demos and for
// tests. It is what `bt tracker` runs.
//
// Peers are kept in memory and forgotten when they stop announcing (after
// Config.PeerTTL, twice the announce interval by default) or send
// "stopped". Memory is bounded: caps on torrents, on peers per torrent and
// overall, on peers per address within a torrent and on entries per
// address overall; a per-address token bucket limits the request rate, so
// one address flooding announces can neither exhaust memory nor starve
// others. For these limits an "address" is an IPv4 address or an IPv6 /64
// network.
//
// UDP connection ids are derived from a secret and the client's IP address
// and time (an HMAC), so a connect request costs no state; an id is valid
// for one to two minutes. Announces answered over UDP carry only peers of
// the socket's family, at most as many as fit one 1200-byte datagram; a
// request with a bad connection id gets no reply at all, so the tracker
// cannot be used to reflect traffic at a spoofed address.
//
// The tracker trusts only the source address of a request: the "ip",
// "ipv4" and "ipv6" parameters are ignored, since honouring them would let
// anyone point a swarm at a victim.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Config tunes a Server. Zero fields take the defaults given.
type Config struct {
	// Interval is the announce interval sent to clients (30 minutes), and
	// MinInterval the "min interval" (a quarter of Interval).
	Interval, MinInterval time.Duration
	// PeerTTL is how long a peer stays listed after its last announce
	// (2×Interval).
	PeerTTL time.Duration
	// DefaultNumWant is the number of peers returned when a client does
	// not say (50); MaxNumWant caps what a client may ask for (200).
	DefaultNumWant, MaxNumWant int
	// MaxTorrents (100 000), MaxPeersPerTorrent (10 000) and MaxPeers
	// (500 000) bound memory: at about 100 bytes a peer, 50 MB at most.
	MaxTorrents, MaxPeersPerTorrent, MaxPeers int
	// MaxPeersPerIP caps one address's entries in one torrent (16): a new
	// port from a full address replaces its oldest entry. MaxEntriesPerIP
	// caps one address's entries over all torrents (1000).
	MaxPeersPerIP, MaxEntriesPerIP int
	// RequestsPerSecond and Burst set the per-address rate limit on
	// announces and scrapes (20/s, bursts of 100).
	RequestsPerSecond float64
	Burst             int
	// MaxHTTPConns (4096) and MaxHTTPConnsPerIP (32) bound the HTTP
	// connections open at once, in all and from one address (an IPv6
	// address counts as its /64); a connection over either is closed at
	// once.
	MaxHTTPConns, MaxHTTPConnsPerIP int
	// Allow, when set, limits the tracker to the info hashes it accepts.
	Allow func(infoHash [20]byte) bool
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

// A Server is a tracker. Create it with New, then serve HTTP (it is an
// http.Handler) and UDP (ServeUDP), or both with ListenAndServe.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *store
	limit  *ipLimiter
	secret [32]byte
	now    func() time.Time // tests replace it
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Minute
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = cfg.Interval / 4
	}
	if cfg.PeerTTL <= 0 {
		cfg.PeerTTL = 2 * cfg.Interval
	}
	def(&cfg.DefaultNumWant, 50)
	def(&cfg.MaxNumWant, 200)
	def(&cfg.MaxTorrents, 100_000)
	def(&cfg.MaxPeersPerTorrent, 10_000)
	def(&cfg.MaxPeers, 500_000)
	def(&cfg.MaxPeersPerIP, 16)
	def(&cfg.MaxEntriesPerIP, 1000)
	def(&cfg.Burst, 100)
	def(&cfg.MaxHTTPConns, 4096)
	def(&cfg.MaxHTTPConnsPerIP, 32)
	if cfg.RequestsPerSecond <= 0 {
		cfg.RequestsPerSecond = 20
	}
	s := &Server{
		cfg: cfg,
		log: cfg.Logger,
		store: newStore(limits{
			maxTorrents: cfg.MaxTorrents, maxPeersPerTorrent: cfg.MaxPeersPerTorrent, maxPeers: cfg.MaxPeers,
			maxPeersPerIP: cfg.MaxPeersPerIP, maxEntriesPerIP: cfg.MaxEntriesPerIP, ttl: cfg.PeerTTL,
		}),
		limit: newIPLimiter(cfg.RequestsPerSecond, cfg.Burst),
		now:   time.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	rand.Read(s.secret[:])
	return s
}

// Stats reports how many torrents and peers the tracker holds.
func (s *Server) Stats() (torrents, peers int) { return s.store.stats() }

// Expire forgets peers that have not announced within PeerTTL.
// ListenAndServe calls it periodically; a caller serving by other means
// should too.
func (s *Server) Expire() { s.store.expire(s.now()) }

// ListenAndServe serves HTTP on httpAddr and UDP on udpAddr (either may be
// empty, not both) until ctx ends, then shuts down gracefully. ready, if
// not nil, is called with the bound addresses once both listen (useful with
// port 0).
func (s *Server) ListenAndServe(ctx context.Context, httpAddr, udpAddr string, ready func(httpAddr, udpAddr net.Addr)) error {
	if httpAddr == "" && udpAddr == "" {
		return errors.New("server: no address to listen on")
	}
	var ln net.Listener
	var pc net.PacketConn
	var err error
	if httpAddr != "" {
		if ln, err = net.Listen("tcp", httpAddr); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	if udpAddr != "" {
		if pc, err = net.ListenPacket("udp", udpAddr); err != nil {
			if ln != nil {
				ln.Close()
			}
			return fmt.Errorf("server: %w", err)
		}
	}
	if ready != nil {
		var ha, ua net.Addr
		if ln != nil {
			ha = ln.Addr()
		}
		if pc != nil {
			ua = pc.LocalAddr()
		}
		ready(ha, ua)
	}
	return s.Serve(ctx, ln, pc)
}

// Serve serves HTTP on ln and UDP on pc (either may be nil) until ctx ends,
// expiring peers meanwhile; it closes both before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener, pc net.PacketConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if ln != nil {
		hs := &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
		lln := newConnLimitListener(ln, s.cfg.MaxHTTPConns, s.cfg.MaxHTTPConnsPerIP)
		wg.Go(func() {
			if err := hs.Serve(lln); !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("server: http: %w", err)
				cancel()
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer scancel()
			if hs.Shutdown(sctx) != nil {
				hs.Close()
			}
		})
	}
	if pc != nil {
		wg.Go(func() {
			if err := s.ServeUDP(ctx, pc); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Go(func() {
		t := time.NewTicker(min(s.cfg.PeerTTL/4, time.Minute))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Expire()
			}
		}
	})
	wg.Wait()
	close(errs)
	return <-errs // nil when the context ended it
}
