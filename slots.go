package bt

import "time"

// Connection slots are a market, not a queue. A torrent at its connection
// bound (or a client at its own) does not turn a newcomer away while it
// holds a peer that is worth less: one that has been idle for a while
// (neither side interested, nothing requested) is closed to make room, as
// libtorrent and Transmission do. Among the idle, a peer that never
// exchanged any payload goes first, then the one idle longest. A newcomer
// is not known to be useful yet, but an idle peer is known not to be, and
// a newcomer that turns out idle is the next to go: a torrent held by many
// idle peers still serves a real leecher within seconds.
//
// The default bounds (Config.MaxConnsPerTorrent 80, MaxConns 400) keep
// the client well below the common descriptor limit of 1,024 together with
// its file pool (Config.MaxOpenFiles 64), while 80 peers per torrent are
// far more than the 4 + 1 upload slots and the request pipelines need to
// saturate a link.

// displaceGrace is how long a peer may be idle before a newcomer may take
// its slot: long enough for a new connection's bitfield and interested to
// arrive, short enough that a leecher is served within seconds.
var displaceGrace = 5 * time.Second

// leastUseful returns the connected peer a newcomer may displace, or nil.
func (t *Torrent) leastUseful(now time.Time) *peer {
	var worst *peer
	for p := range t.peers {
		if !p.started || p.amInterested || p.peerInterested || len(p.reqs) > 0 ||
			now.Sub(p.lastActive) < displaceGrace {
			continue
		}
		if worst == nil || lessUseful(p, worst) {
			worst = p
		}
	}
	return worst
}

// lessUseful orders idle peers: nothing exchanged first, then idle longest.
func lessUseful(a, b *peer) bool {
	ea, eb := a.exchanged(), b.exchanged()
	if ea != eb {
		return !ea
	}
	return a.lastActive.Before(b.lastActive)
}

func (p *peer) exchanged() bool { return p.downloaded > 0 || p.uploadedA.Load() > 0 }

// displace closes the least useful peer to make room for a newcomer, and
// reports whether it did.
func (t *Torrent) displace(now time.Time) bool {
	p := t.leastUseful(now)
	if p == nil {
		return false
	}
	t.log.Debug("displacing an idle peer for a newcomer", "addr", p.addr)
	p.conn.Close()
	t.removePeer(p) // its close event finds it gone
	return true
}
