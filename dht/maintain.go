package dht

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Maintenance periods.
const (
	tickEvery     = time.Second
	refreshAfter  = 15 * time.Minute // BEP 5: refresh buckets unchanged this long
	rejoinFirst   = 2 * time.Second  // first retry of the self-lookup while the table holds < k nodes;
	rejoinMax     = 5 * time.Minute  // the retry delay doubles up to this
	saveEvery     = 10 * time.Minute
	sweepEvery    = time.Minute
	resolveTimout = 10 * time.Second
)

// maintain runs the periodic work of the Server until it closes.
func (s *Server) maintain() {
	defer s.wg.Done()
	ctx := s.ctx
	s.resolveBootstrap(ctx)

	ticker := time.NewTicker(tickEvery)
	defer ticker.Stop()
	lastSweep, lastSave, lastRefresh := time.Now(), time.Now(), time.Now()
	rejoinDelay := rejoinFirst
	for {
		now := time.Now()
		s.mu.Lock()
		s.tok.maybeRotate(now)
		s.expireTxnsLocked(now)
		// Look ourselves up when the first node arrives, and again (with
		// a doubling delay) while the table is smaller than one bucket.
		small := s.t4.len()+s.t6.len() < s.cfg.K
		join := s.wantJoin || (small && now.Sub(s.lastJoin) >= rejoinDelay)
		if join {
			if !s.wantJoin {
				rejoinDelay = min(2*rejoinDelay, rejoinMax)
			}
			s.wantJoin = false
			s.lastJoin = now
		}
		if !small {
			rejoinDelay = rejoinFirst
		}
		if now.Sub(lastSweep) >= sweepEvery {
			lastSweep = now
			s.store.expire(now)
			s.limit.sweep(now)
		}
		var refresh []ID
		if now.Sub(lastRefresh) >= sweepEvery {
			lastRefresh = now
			refresh = append(s.t4.stale(now.Add(-refreshAfter)), s.t6.stale(now.Add(-refreshAfter))...)
		}
		s.mu.Unlock()

		if join {
			s.join(ctx)
		}
		s.refresh(ctx, refresh)
		if s.cfg.StateFile != "" && time.Since(lastSave) >= saveEvery {
			lastSave = time.Now()
			if err := s.saveState(); err != nil {
				s.log.Warn("dht: saving state", "err", err)
			}
		}
		select {
		case <-s.closing:
			return
		case <-ticker.C:
		}
	}
}

// join looks up our own id, which fills the buckets near it, then
// refreshes every bucket, so that the table also knows nodes in each part
// of the id space farther away (the Kademlia join procedure).
func (s *Server) join(ctx context.Context) {
	s.findNode(ctx, s.id, true)
	s.mu.Lock()
	now := time.Now()
	targets := append(s.t4.stale(now), s.t6.stale(now)...)
	s.mu.Unlock()
	s.refresh(ctx, targets)
}

// refresh runs a find_node lookup for each target, marking its bucket
// fresh.
func (s *Server) refresh(ctx context.Context, targets []ID) {
	for _, id := range targets {
		if ctx.Err() != nil {
			return
		}
		s.FindNode(ctx, id)
		s.mu.Lock()
		s.t4.touch(id, time.Now())
		s.t6.touch(id, time.Now())
		s.mu.Unlock()
	}
}

// expireTxnsLocked drops our own pings that timed out, charging the node
// with a failure. Lookup transactions are timed out by their lookup; they
// are dropped here only if long abandoned.
func (s *Server) expireTxnsLocked(now time.Time) {
	for tid, tx := range s.txns {
		late := now.Sub(tx.deadline)
		if late < 0 || (tx.ch != nil && late < 5*s.cfg.QueryTimeout) {
			continue
		}
		s.dropTxnLocked(tid, tx)
		if tx.ch == nil {
			s.tableFor(tx.addr).failed(tx.addr)
			s.stats.Timeouts++
		}
	}
}

// resolveBootstrap turns Config.Bootstrap into addresses.
func (s *Server) resolveBootstrap(ctx context.Context) {
	var addrs []netip.AddrPort
	for _, hp := range s.cfg.Bootstrap {
		if _, err := netip.ParseAddrPort(hp); err == nil {
			continue // added by New
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			s.log.Warn("dht: bad bootstrap address", "addr", hp, "err", err)
			continue
		}
		p, err := net.LookupPort("udp", port)
		if err != nil {
			s.log.Warn("dht: bad bootstrap port", "addr", hp, "err", err)
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, resolveTimout)
		ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if err != nil {
			s.log.Warn("dht: resolving bootstrap node", "addr", hp, "err", err)
			continue
		}
		for _, ip := range ips {
			addrs = append(addrs, netip.AddrPortFrom(ip.Unmap(), uint16(p)))
		}
	}
	s.mu.Lock()
	s.boot = append(s.boot, addrs...)
	s.mu.Unlock()
}
