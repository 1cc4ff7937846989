package dht

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
)

// Bounds of one lookup.
const (
	maxCandidates    = 256  // candidates remembered (closest kept)
	maxLookupQueries = 256  // queries sent
	maxLookupValues  = 4096 // distinct peers reported
)

type candState int

const (
	fresh   candState = iota // not queried yet
	waiting                  // query outstanding
	done                     // answered
	failed                   // timed out, errored, or could not be sent
)

type candidate struct {
	id      ID
	idKnown bool // false for bootstrap addresses until they answer
	addr    netip.AddrPort
	state   candState
	tid     uint16
	sent    time.Time
	slow    bool // outstanding past half the timeout: no longer holds a slot
	token   []byte
}

// lookup is one iterative Kademlia lookup (find_node or get_peers) in one
// address family. It runs in its caller's goroutine: queries are sent
// through the Server's transaction table and their replies arrive on ch.
type lookup struct {
	s        *Server
	target   ID
	method   string
	v6       bool
	k, alpha int
	cands    []*candidate
	seen     map[netip.AddrPort]bool
	byTID    map[uint16]*candidate
	ch       chan reply
	queries  int
	values   map[netip.AddrPort]bool
	onValues func([]netip.AddrPort) // get_peers: new peers, as they arrive
	first    []*candidate           // asked in the first round whatever their distance
}

// newLookup prepares a lookup, starting from the nodes we know closest to
// target. A wide lookup also asks, in its first round, one random node from
// each of up to k buckets: the join lookup uses this so that a group of
// nodes that only know each other near our id (possible when many nodes join
// at once) is found through nodes far away, whose view of our region may be
// different.
func (s *Server) newLookup(target ID, method string, v6, wide bool) *lookup {
	l := &lookup{
		s: s, target: target, method: method, v6: v6,
		k: s.cfg.K, alpha: s.cfg.Alpha,
		seen:   make(map[netip.AddrPort]bool),
		byTID:  make(map[uint16]*candidate),
		ch:     make(chan reply, 4*s.cfg.Alpha+3*s.cfg.K),
		values: make(map[netip.AddrPort]bool),
	}
	s.mu.Lock()
	t := s.t4
	if v6 {
		t = s.t6
	}
	for _, n := range t.closest(target, 2*l.k) {
		l.add(n.id, true, n.addr)
	}
	if wide {
		for _, i := range rand.Perm(len(t.buckets)) {
			b := t.buckets[i]
			if len(l.first) == l.k || len(b.nodes) == 0 {
				continue
			}
			n := b.nodes[rand.IntN(len(b.nodes))]
			if c := l.add(n.id, true, n.addr); c != nil && !n.bad() {
				l.first = append(l.first, c)
			}
		}
	}
	if len(l.cands) < l.k {
		// Few known nodes: start from the bootstrap and saved nodes too.
		for _, a := range s.boot {
			l.add(ID{}, false, a)
		}
		for _, n := range s.savedNodes {
			l.add(ID(n.ID), true, n.Addr)
		}
	}
	s.mu.Unlock()
	l.sort()
	return l
}

// add adds a candidate if it is new and usable, and returns it.
func (l *lookup) add(id ID, idKnown bool, addr netip.AddrPort) *candidate {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if l.seen[addr] || len(l.seen) >= 4*maxCandidates || !validAddr(addr) ||
		addr.Addr().Is6() != l.v6 || addr == l.s.local || (idKnown && id == l.s.id) {
		return nil
	}
	l.seen[addr] = true
	c := &candidate{id: id, idKnown: idKnown, addr: addr}
	l.cands = append(l.cands, c)
	return c
}

// sort orders candidates: unknown ids first (bootstrap nodes), then by
// distance to the target; then drops the farthest ones beyond
// maxCandidates unless a query to them is outstanding.
func (l *lookup) sort() {
	slices.SortStableFunc(l.cands, func(a, b *candidate) int {
		switch {
		case !a.idKnown && b.idKnown:
			return -1
		case a.idKnown && !b.idKnown:
			return 1
		case closer(l.target, a.id, b.id):
			return -1
		case closer(l.target, b.id, a.id):
			return 1
		}
		return 0
	})
	for i := len(l.cands) - 1; i >= 0 && len(l.cands) > maxCandidates; i-- {
		if l.cands[i].state != waiting {
			l.cands = slices.Delete(l.cands, i, i+1)
		}
	}
}

// next returns the closest candidate not yet queried among the k closest
// that have not failed, or nil if those k have all been queried.
func (l *lookup) next() *candidate {
	n := 0
	for _, c := range l.cands {
		switch c.state {
		case failed:
			continue
		case fresh:
			return c
		}
		n++
		if n >= l.k {
			break
		}
	}
	return nil
}

// pendingInTopK reports whether a query to one of the k closest live
// candidates is outstanding.
func (l *lookup) pendingInTopK() bool {
	n := 0
	for _, c := range l.cands {
		if c.state == failed {
			continue
		}
		if c.state == waiting {
			return true
		}
		n++
		if n >= l.k {
			break
		}
	}
	return false
}

func (l *lookup) active() int {
	n := 0
	for _, c := range l.byTID {
		if !c.slow {
			n++
		}
	}
	return n
}

// run queries until the k closest live candidates have all answered, ctx
// ends, or the Server closes. Outstanding transactions are cancelled on
// return.
func (l *lookup) run(ctx context.Context) error {
	defer func() {
		for tid := range l.byTID {
			l.s.cancelTxn(tid, false)
		}
	}()
	timeout := l.s.cfg.QueryTimeout
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for _, c := range l.first {
		if c.state == fresh {
			l.send(c)
		}
	}
	for {
		for l.active() < l.alpha && l.queries < maxLookupQueries {
			c := l.next()
			if c == nil {
				break
			}
			l.send(c)
		}
		if !l.pendingInTopK() && l.next() == nil {
			return nil
		}
		if len(l.byTID) == 0 {
			return nil // nothing outstanding and nothing to send (query cap)
		}
		// Wake at the next half-timeout (a slot frees) or timeout.
		now := time.Now()
		wake := now.Add(timeout)
		for _, c := range l.byTID {
			at := c.sent.Add(timeout)
			if !c.slow {
				at = c.sent.Add(timeout / 2)
			}
			if at.Before(wake) {
				wake = at
			}
		}
		timer.Reset(max(wake.Sub(now), time.Millisecond))
		select {
		case r := <-l.ch:
			l.handle(r)
		case <-timer.C:
			now := time.Now()
			for tid, c := range l.byTID {
				switch {
				case now.Sub(c.sent) >= timeout:
					delete(l.byTID, tid)
					c.state = failed
					l.s.cancelTxn(tid, true)
				case now.Sub(c.sent) >= timeout/2:
					c.slow = true
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-l.s.closing:
			return ErrClosed
		}
	}
}

func (l *lookup) send(c *candidate) {
	l.queries++
	a := krpc.Args{Target: l.target, InfoHash: l.target}
	tid, err := l.s.query(c.addr, l.method, &a, l.ch)
	if err != nil {
		c.state = failed
		return
	}
	c.state, c.tid, c.sent = waiting, tid, time.Now()
	l.byTID[tid] = c
}

func (l *lookup) handle(r reply) {
	c := l.byTID[r.tid]
	if c == nil || c.addr != r.from {
		return
	}
	delete(l.byTID, r.tid)
	if r.msg == nil || r.msg.Y != krpc.Response {
		c.state = failed
		return
	}
	c.state = done
	c.id, c.idKnown = ID(r.msg.R.ID), true
	c.token = r.msg.R.Token
	nodes := r.msg.R.Nodes
	if l.v6 {
		nodes = r.msg.R.Nodes6
	}
	for _, n := range nodes {
		l.add(ID(n.ID), true, n.Addr)
	}
	l.sort()
	if l.onValues != nil && len(r.msg.R.Values) > 0 {
		var fresh []netip.AddrPort
		for _, v := range r.msg.R.Values {
			v = netip.AddrPortFrom(v.Addr().Unmap(), v.Port())
			if validAddr(v) && !l.values[v] && len(l.values) < maxLookupValues {
				l.values[v] = true
				fresh = append(fresh, v)
			}
		}
		if len(fresh) > 0 {
			l.onValues(fresh)
		}
	}
	if l.s.cfg.EnforceSecureIDs && !IsSecureID(c.id, c.addr.Addr()) {
		// BEP 42: its nodes and peers are used, but it neither ends the
		// lookup nor receives our announce.
		c.state = failed
	}
}

// closest returns up to k candidates that answered, closest first.
func (l *lookup) closest() []*candidate {
	var out []*candidate
	for _, c := range l.cands {
		if c.state == done && c.idKnown {
			out = append(out, c)
			if len(out) == l.k {
				break
			}
		}
	}
	return out
}

func (s *Server) countLookup() {
	s.mu.Lock()
	s.stats.Lookups++
	s.mu.Unlock()
}

// families returns the address families worth a lookup: those the socket
// serves and for which we know a node or a bootstrap address.
func (s *Server) families() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	has := func(v6 bool) bool {
		t := s.t4
		if v6 {
			t = s.t6
		}
		if t.len() > 0 {
			return true
		}
		for _, a := range s.boot {
			if a.Addr().Is6() == v6 {
				return true
			}
		}
		for _, n := range s.savedNodes {
			if n.Addr.Addr().Is6() == v6 {
				return true
			}
		}
		return false
	}
	var out []bool
	if s.v4 && has(false) {
		out = append(out, false)
	}
	if s.v6 && has(true) {
		out = append(out, true)
	}
	return out
}
