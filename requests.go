package bt

import (
	"time"

	"github.com/bt-go/bt/internal/choker"
	"github.com/bt-go/bt/internal/picker"
)

// Downloading: the requests we keep with each peer, and the blocks that
// answer them.

const (
	// refillBatch is the fewest requests worth sending at once to a peer
	// that still has some outstanding.
	refillBatch = 8
	// endGameRequests bounds a peer's pipeline in the end game.
	endGameRequests = 6
)

// release forgets our request of a block (rejected, timed out).
func (t *Torrent) release(p *peer, index, begin int) {
	b := picker.Block{Piece: index, Index: begin / picker.BlockSize}
	if _, ok := p.reqs[b]; ok {
		delete(p.reqs, b)
		t.pick.Cancel(p.id, b)
	}
}

// cancelAll cancels every outstanding request of p.
func (t *Torrent) cancelAll(p *peer) {
	for b := range p.reqs {
		begin, length := t.pick.BlockRange(b)
		p.conn.Cancel(b.Piece, begin, length)
		t.pick.Cancel(p.id, b)
	}
	clear(p.reqs)
}

// pipeline returns how many requests to keep outstanding with p: about
// RequestQueueTime worth of blocks at its current rate, bounded.
func (t *Torrent) pipeline(p *peer) int {
	n := int(p.downRate.value * t.cfg.RequestQueueTime.Seconds() / picker.BlockSize)
	n = max(n, t.cfg.MinRequests)
	n = min(n, t.cfg.MaxRequests)
	n = t.capPipeline(n)
	if p.reqq > 0 {
		n = min(n, p.reqq)
	}
	if p.snubbed {
		n = 1
	}
	return n
}

// fillRequests tops up p's request pipeline.
func (t *Torrent) fillRequests(p *peer) {
	if t.state != Started || t.pick == nil || t.checking || !p.started || !p.amInterested || t.err != nil {
		return
	}
	if p.peerChoking && len(p.allowedFast) == 0 {
		return
	}
	target := t.pipeline(p)
	if t.pick.EndGame() {
		// Every piece is started: what is left to pick is mostly blocks
		// already asked of others. Keep duplicates few.
		target = min(target, endGameRequests)
	}
	n := target - len(p.reqs)
	if n <= 0 || len(p.reqs) > 0 && n < min(refillBatch, target/2) {
		return
	}
	if n = t.affordDown(n); n == 0 { // limits.go: download rate limit
		return
	}
	pe := &picker.Peer{ID: p.id, Has: p.has, Seed: p.seed, Choking: p.peerChoking,
		AllowedFast: p.allowedFast, Suggested: p.suggested}
	p.maskRejected(pe) // faults.go
	t.scratch = t.pick.Pick(pe, n, t.scratch[:0])
	now := time.Now()
	for k, b := range t.scratch {
		begin, length := t.pick.BlockRange(b)
		if err := p.conn.Request(b.Piece, begin, length, nil); err != nil {
			for _, r := range t.scratch[k:] {
				t.pick.Cancel(p.id, r)
			}
			break
		}
		p.reqs[b] = now
	}
	t.spendDown(t.scratch) // limits.go
	if len(t.scratch) == 0 && len(p.reqs) == 0 && !p.peerChoking {
		t.updatePeerInterest(p)
	}
}

// onBlock takes a block that arrived from p.
func (t *Torrent) onBlock(p *peer, index, begin int, data []byte) {
	defer putBlockBuf(data)
	n := len(data)
	t.downloaded.Add(int64(n))
	p.downloaded += int64(n)
	p.lastBlock = time.Now()
	p.snubbed = false
	if t.pick == nil || index < 0 || index >= t.pick.NumPieces() || begin%picker.BlockSize != 0 {
		return
	}
	b := picker.Block{Piece: index, Index: begin / picker.BlockSize}
	if _, l := t.pick.BlockRange(b); l != n {
		return
	}
	if p.reqs != nil {
		delete(p.reqs, b)
	}
	fresh, others, done := t.pick.Received(p.id, b)
	for _, o := range others {
		if q := t.byPickID[o]; q != nil {
			delete(q.reqs, b)
			q.conn.Cancel(index, begin, n)
		}
	}
	if fresh {
		pb := t.pieces[index]
		if pb == nil {
			pb = t.newPieceBuf(index)
			t.pieces[index] = pb
		}
		copy(pb.buf[begin:], data)
		pb.senders[b.Index] = p
		if done {
			delete(t.pieces, index)
			t.submitPiece(index, pb)
		}
	}
	if _, live := t.peers[p]; live {
		t.fillRequests(p)
	}
}

// checkPeer handles time-outs: requests unanswered for too long are
// released, snubbing peers get a pipeline of one, idle peers are dropped.
func (t *Torrent) checkPeer(p *peer, now time.Time) {
	if len(p.reqs) > 0 && choker.Snubbed(now, p.lastBlock, true) {
		p.snubbed = true
	}
	for b, at := range p.reqs {
		if now.Sub(at) > t.cfg.RequestTimeout {
			begin, length := t.pick.BlockRange(b)
			p.conn.Cancel(b.Piece, begin, length)
			delete(p.reqs, b)
			t.pick.Cancel(p.id, b)
		}
	}
	if p.amInterested || p.peerInterested {
		p.lastActive = now
	} else if now.Sub(p.lastActive) > t.cfg.IdleTimeout {
		t.log.Debug("dropping idle peer", "addr", p.addr)
		p.conn.Close()
	}
}

func (p *peer) sample(now time.Time) {
	p.downRate.sample(now, p.downloaded)
	p.upRate.sample(now, p.uploadedA.Load())
}
