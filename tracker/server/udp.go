package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/bt-go/bt/tracker/internal/trackerwire"

	"github.com/bt-go/bt/internal/compact"
)

// connIDEpoch is the period of the connection id clock: an id is accepted
// in the epoch it was made and the next, so for one to two minutes.
const connIDEpoch = time.Minute

// udpPayloadBudget is the largest announce reply we send: it fits the
// IPv6 minimum MTU with room for headers.
const udpPayloadBudget = 1200

// connectionID derives the connection id for ip in the given epoch: the
// first 8 bytes of HMAC-SHA256(secret, epoch ‖ ip). Nothing is stored.
func (s *Server) connectionID(ip netip.Addr, epoch int64) uint64 {
	m := hmac.New(sha256.New, s.secret[:])
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:], uint64(epoch))
	a := ip.Unmap().As16()
	copy(b[8:], a[:])
	m.Write(b[:])
	return binary.BigEndian.Uint64(m.Sum(nil))
}

func (s *Server) validConnectionID(ip netip.Addr, id uint64, now time.Time) bool {
	e := now.Unix() / int64(connIDEpoch/time.Second)
	return id == s.connectionID(ip, e) || id == s.connectionID(ip, e-1)
}

// ServeUDP answers BEP 15 requests on pc until ctx ends (it then closes pc
// and returns nil) or pc fails.
func (s *Server) ServeUDP(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	defer pc.Close()
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("server: udp: %w", err)
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		src := ua.AddrPort()
		reply := s.handleUDP(buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
		if reply != nil {
			pc.WriteTo(reply, from)
		}
	}
}

// handleUDP answers one datagram from src; nil means no reply. Malformed
// packets, bad connection ids and rate-limited sources get silence: an
// error packet to a spoofed address would be a reflection.
func (s *Server) handleUDP(pkt []byte, src netip.AddrPort) []byte {
	now := s.now()
	req, err := trackerwire.ParseRequest(pkt)
	if err != nil {
		return nil
	}
	ip := src.Addr()
	if !s.limit.allow(ip, now) {
		return nil
	}
	switch r := req.(type) {
	case *trackerwire.ConnectRequest:
		id := s.connectionID(ip, now.Unix()/int64(connIDEpoch/time.Second))
		return (&trackerwire.ConnectResponse{TransactionID: r.TransactionID, ConnectionID: id}).AppendBinary(nil)
	case *trackerwire.AnnounceRequest:
		if !s.validConnectionID(ip, r.ConnectionID, now) {
			return nil
		}
		return s.udpAnnounce(r, src, now)
	case *trackerwire.ScrapeRequest:
		if !s.validConnectionID(ip, r.ConnectionID, now) {
			return nil
		}
		counts := s.store.scrape(r.InfoHashes)
		resp := &trackerwire.ScrapeResponse{TransactionID: r.TransactionID, Entries: make([]trackerwire.ScrapeEntry, len(counts))}
		for i, c := range counts {
			if s.cfg.Allow != nil && !s.cfg.Allow(r.InfoHashes[i]) {
				continue
			}
			resp.Entries[i] = trackerwire.ScrapeEntry{Seeders: uint32(c.complete), Completed: uint32(c.downloaded), Leechers: uint32(c.incomplete)}
		}
		return resp.AppendBinary(nil)
	}
	return nil
}

func (s *Server) udpAnnounce(r *trackerwire.AnnounceRequest, src netip.AddrPort, now time.Time) []byte {
	fail := func(msg string) []byte {
		return (&trackerwire.ErrorResponse{TransactionID: r.TransactionID, Message: msg}).AppendBinary(nil)
	}
	if s.cfg.Allow != nil && !s.cfg.Allow(r.InfoHash) {
		return fail(errNotAllowed.Error())
	}
	if r.Port == 0 && r.Event != trackerwire.EventStopped {
		return fail("port must be 1 to 65535")
	}
	if r.Left < 0 {
		return fail("left must be a count of bytes")
	}
	family, stride := 4, compact.IPv4Len
	if src.Addr().Is6() {
		family, stride = 6, compact.IPv6Len
	}
	numWant := s.cfg.DefaultNumWant
	if r.NumWant >= 0 {
		numWant = min(int(r.NumWant), s.cfg.MaxNumWant)
	}
	numWant = min(numWant, (udpPayloadBudget-trackerwire.AnnounceResponseMin)/stride)
	event := [...]string{trackerwire.EventNone: "", trackerwire.EventCompleted: "completed",
		trackerwire.EventStarted: "started", trackerwire.EventStopped: "stopped"}
	a := announceArgs{
		infoHash: r.InfoHash, peerID: r.PeerID, addr: netip.AddrPortFrom(src.Addr(), r.Port),
		left: r.Left, numWant: numWant, family: family,
	}
	if int(r.Event) < len(event) {
		a.event = event[r.Event]
	}
	res := s.store.announce(a, now)
	s.log.Debug("announce", "proto", "udp", "peer", a.addr, "info_hash", fmt.Sprintf("%x", a.infoHash),
		"event", a.event, "left", a.left, "returned", len(res.peers))
	return (&trackerwire.AnnounceResponse{
		TransactionID: r.TransactionID,
		Interval:      uint32(s.cfg.Interval / time.Second),
		Leechers:      uint32(res.incomplete),
		Seeders:       uint32(res.complete),
		Peers:         res.peers,
	}).AppendBinary(nil)
}
