package tracker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/bt-go/bt/tracker/internal/trackerwire"
)

// connIDLifetime is how long a client may use a connection id (BEP 15).
const connIDLifetime = time.Minute

// maxUDPPacket is the receive buffer: larger datagrams are truncated and so
// fail to parse.
const maxUDPPacket = 64 << 10

type udpConnID struct {
	id      uint64
	expires time.Time
}

// udpSession is one announce or scrape exchange with a UDP tracker: a
// socket connected to the tracker's address, so the kernel drops datagrams
// from anyone else, and a second check on each datagram's source.
type udpSession struct {
	c      *Client
	conn   udpConn
	raddr  netip.AddrPort
	ipv6   bool
	url    string
	errTID int // datagrams ignored for a wrong transaction id
	errBad int // datagrams ignored as too short, from elsewhere or unparsable
	buf    []byte
}

// udpConn is the part of a connected *net.UDPConn a session uses; tests
// put an in-memory socket in its place to run on a fake clock.
type udpConn interface {
	Write(b []byte) (int, error)
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

func (c *Client) dialUDP(ctx context.Context, u *url.URL) (*udpSession, error) {
	host, port := u.Hostname(), u.Port()
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("tracker: UDP tracker %s: bad port %q", u.Host, port)
	}
	addrs, err := c.hostAddrs(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("tracker: resolving %s: %w", host, err)
	}
	a := addrs[0].Unmap()
	for _, b := range addrs { // prefer IPv4 when a name has both
		if b.Unmap().Is4() {
			a = b.Unmap()
			break
		}
	}
	raddr := netip.AddrPortFrom(a, uint16(p))
	var conn udpConn
	if c.dialUDPConn != nil {
		conn, err = c.dialUDPConn(raddr)
	} else {
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(raddr))
	}
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	return &udpSession{c: c, conn: conn, raddr: raddr, ipv6: a.Is6(), url: u.Redacted(), buf: make([]byte, maxUDPPacket)}, nil
}

func (c *Client) announceUDP(ctx context.Context, u *url.URL, req *AnnounceRequest) (*AnnounceResponse, error) {
	s, err := c.dialUDP(ctx, u)
	if err != nil {
		return nil, err
	}
	defer s.conn.Close()
	var urlData string
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		urlData = u.EscapedPath()
		if u.RawQuery != "" {
			urlData += "?" + u.RawQuery
		}
	}
	numWant := int32(-1)
	if req.NumWant > 0 {
		numWant = int32(min(req.NumWant, 1<<16))
	}
	ev := [...]uint32{EventNone: trackerwire.EventNone, EventStarted: trackerwire.EventStarted,
		EventCompleted: trackerwire.EventCompleted, EventStopped: trackerwire.EventStopped}
	var event uint32
	if req.Event >= 0 && int(req.Event) < len(ev) {
		event = ev[req.Event]
	}
	resp, err := s.request(ctx, func(connID uint64, tid uint32) []byte {
		p := trackerwire.AnnounceRequest{
			ConnectionID: connID, TransactionID: tid,
			InfoHash: req.InfoHash, PeerID: req.PeerID,
			Downloaded: max(req.Downloaded, 0), Left: max(req.Left, 0), Uploaded: max(req.Uploaded, 0),
			Event: event, Key: req.Key, NumWant: numWant, Port: req.Port, URLData: urlData,
		}
		return p.AppendBinary(nil)
	})
	if err != nil {
		return nil, err
	}
	ar, ok := resp.(*trackerwire.AnnounceResponse)
	if !ok {
		return nil, &ResponseError{URL: s.url, Err: fmt.Errorf("a %T answers an announce", resp)}
	}
	return &AnnounceResponse{
		Interval:   min(time.Duration(ar.Interval)*time.Second, maxRawInterval),
		Complete:   int(min(ar.Seeders, 1<<31-1)),
		Incomplete: int(min(ar.Leechers, 1<<31-1)),
		Peers:      capPeers(ar.Peers),
	}, nil
}

func (c *Client) scrapeUDP(ctx context.Context, u *url.URL, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	s, err := c.dialUDP(ctx, u)
	if err != nil {
		return nil, err
	}
	defer s.conn.Close()
	out := make(map[[20]byte]ScrapeResult, len(hashes))
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), trackerwire.MaxScrapeHashes)]
		hashes = hashes[len(chunk):]
		resp, err := s.request(ctx, func(connID uint64, tid uint32) []byte {
			p := trackerwire.ScrapeRequest{ConnectionID: connID, TransactionID: tid, InfoHashes: chunk}
			return p.AppendBinary(nil)
		})
		if err != nil {
			return nil, err
		}
		sr, ok := resp.(*trackerwire.ScrapeResponse)
		if !ok {
			return nil, &ResponseError{URL: s.url, Err: fmt.Errorf("a %T answers a scrape", resp)}
		}
		if len(sr.Entries) != len(chunk) {
			return nil, &ResponseError{URL: s.url, Err: fmt.Errorf("scrape of %d torrents answered with %d entries", len(chunk), len(sr.Entries))}
		}
		for i, e := range sr.Entries {
			out[chunk[i]] = ScrapeResult{
				Complete:   int(min(e.Seeders, 1<<31-1)),
				Downloaded: int(min(e.Completed, 1<<31-1)),
				Incomplete: int(min(e.Leechers, 1<<31-1)),
			}
		}
	}
	return out, nil
}

// request sends the packet build makes, retransmitting on silence, and
// returns the parsed reply. It connects first when no connection id is
// cached for the tracker; an error reply to a request made with a cached
// id is retried once with a fresh one (the tracker may have forgotten it).
func (s *udpSession) request(ctx context.Context, build func(connID uint64, tid uint32) []byte) (any, error) {
	for retried := false; ; retried = true {
		connID, cached, err := s.connectionID(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := s.exchange(ctx, func(tid uint32) []byte { return build(connID, tid) })
		var fe *FailureError
		if cached && !retried && errors.As(err, &fe) {
			s.c.forgetConnID(s.raddr)
			continue
		}
		return resp, err
	}
}

// connectionID returns a cached, unexpired connection id for the tracker or
// obtains a new one; cached says which.
func (s *udpSession) connectionID(ctx context.Context) (id uint64, cached bool, err error) {
	key := s.raddr.String()
	now := time.Now()
	s.c.mu.Lock()
	e, ok := s.c.connIDs[key]
	s.c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.id, true, nil
	}
	resp, err := s.exchange(ctx, func(tid uint32) []byte {
		r := trackerwire.ConnectRequest{TransactionID: tid}
		return r.AppendBinary(nil)
	})
	if err != nil {
		return 0, false, err
	}
	cr, ok := resp.(*trackerwire.ConnectResponse)
	if !ok {
		return 0, false, &ResponseError{URL: s.url, Err: fmt.Errorf("a %T answers a connect", resp)}
	}
	s.c.mu.Lock()
	if s.c.connIDs == nil {
		s.c.connIDs = make(map[string]udpConnID)
	}
	if len(s.c.connIDs) > 1024 { // one per tracker; drop them all rather than grow
		clear(s.c.connIDs)
	}
	s.c.connIDs[key] = udpConnID{id: cr.ConnectionID, expires: now.Add(connIDLifetime)}
	s.c.mu.Unlock()
	return cr.ConnectionID, false, nil
}

func (c *Client) forgetConnID(raddr netip.AddrPort) {
	c.mu.Lock()
	delete(c.connIDs, raddr.String())
	c.mu.Unlock()
}

// exchange sends build(tid) and waits for the reply with that transaction
// id, retransmitting after UDPTimeout·2^n up to UDPAttempts sends. Each
// attempt uses a new transaction id, so a late reply to an old attempt is
// ignored like any stranger's.
func (s *udpSession) exchange(ctx context.Context, build func(tid uint32) []byte) (any, error) {
	base := s.c.UDPTimeout
	if base <= 0 {
		base = DefaultUDPTimeout
	}
	attempts := s.c.UDPAttempts
	if attempts <= 0 {
		attempts = DefaultUDPAttempts
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for n := range attempts {
		tid := rand.Uint32()
		if _, err := s.conn.Write(build(tid)); err != nil {
			return nil, fmt.Errorf("tracker: sending to %s: %w", s.url, err)
		}
		deadline := time.Now().Add(base << min(n, 8))
		if err := s.conn.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("tracker: %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		resp, err := s.await(s.buf, tid)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w from %s after %d attempts (ignored %d datagrams with a wrong transaction id, %d malformed or foreign)",
		ErrTimeout, s.url, attempts, s.errTID, s.errBad)
}

// await reads datagrams until the one answering tid arrives or the read
// deadline passes. Datagrams from another address, too short to carry a
// transaction id, or carrying another one are counted and ignored: anyone
// can send us a datagram. A datagram with our transaction id that does not
// parse is the tracker's error.
func (s *udpSession) await(buf []byte, tid uint32) (any, error) {
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, os.ErrDeadlineExceeded
			}
			return nil, fmt.Errorf("tracker: reading from %s: %w", s.url, err)
		}
		if from.Addr().Unmap() != s.raddr.Addr() || from.Port() != s.raddr.Port() {
			s.errBad++
			continue
		}
		pkt := buf[:n]
		if n < trackerwire.ResponseHeaderLen {
			s.errBad++
			continue
		}
		if uint32(pkt[4])<<24|uint32(pkt[5])<<16|uint32(pkt[6])<<8|uint32(pkt[7]) != tid {
			s.errTID++
			continue
		}
		resp, err := trackerwire.ParseResponse(pkt, s.ipv6)
		if err != nil {
			return nil, &ResponseError{URL: s.url, Err: err}
		}
		if e, ok := resp.(*trackerwire.ErrorResponse); ok {
			return nil, &FailureError{Reason: truncate(e.Message, 512)}
		}
		return resp, nil
	}
}
