package bt

import (
	"crypto/sha1"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/storage"
)

// pieceBuf assembles one piece in memory. The whole piece is hashed before
// anything is written, so unverified data never reaches the disk.
type pieceBuf struct {
	buf     []byte
	senders []*peer // who sent each block, for smart banning
}

// failedPiece remembers a piece that failed its hash: the hash of each
// block and who sent it. When the piece later passes, the blocks whose
// hash differs name the peers that lied.
type failedPiece struct {
	hashes  [][20]byte
	senders []*peer
}

// hashJob is a complete piece on its way to the hash workers.
type hashJob struct {
	t           *Torrent
	store       *storage.Store
	piece       int
	pb          *pieceBuf
	want        [20]byte
	blockHashes bool // compute per-block hashes (smart ban)
}

// diskResult is a hash job's outcome, sent back to the torrent's loop.
type diskResult struct {
	piece  int
	pb     *pieceBuf
	ok     bool
	err    error // a storage error
	blocks [][20]byte
}

func (t *Torrent) newPieceBuf(i int) *pieceBuf {
	size := int(t.pick.PieceSize(i))
	var buf []byte
	if size == int(t.pick.PieceSize(0)) {
		if b, ok := t.bufs.Get().(*[]byte); ok && cap(*b) >= size {
			buf = (*b)[:size]
		}
	}
	if buf == nil {
		buf = make([]byte, size)
	}
	return &pieceBuf{buf: buf, senders: make([]*peer, t.pick.NumBlocks(i))}
}

func (t *Torrent) freePieceBuf(pb *pieceBuf) {
	if len(pb.buf) == int(t.pick.PieceSize(0)) {
		b := pb.buf
		t.bufs.Put(&b)
	}
}

// submitPiece sends a complete piece to be hashed and written.
func (t *Torrent) submitPiece(i int, pb *pieceBuf) {
	m := t.meta.Load()
	_, hadFailure := t.evidence[i]
	if t.diskDone == nil {
		t.diskDone = make(chan diskResult, 64) // on first use: an idle torrent has none
	}
	t.writing++
	t.diskBytes += int64(len(pb.buf))
	t.peakDiskBytes = max(t.peakDiskBytes, t.diskBytes)
	t.client.hashes.submit(hashJob{t: t, store: t.store, piece: i, pb: pb,
		want: m.info.PieceHash(i), blockHashes: hadFailure})
}

// run does one job on a hash worker.
func (j *hashJob) run() {
	r := diskResult{piece: j.piece, pb: j.pb}
	if d := j.t.client.slowDisk; d > 0 {
		time.Sleep(d)
	}
	r.ok = sha1.Sum(j.pb.buf) == j.want
	if j.blockHashes || !r.ok {
		for off := 0; off < len(j.pb.buf); off += picker.BlockSize {
			r.blocks = append(r.blocks, sha1.Sum(j.pb.buf[off:min(off+picker.BlockSize, len(j.pb.buf))]))
		}
	}
	if r.ok {
		if j.store == nil {
			r.err = storage.ErrClosed
		} else {
			r.err = j.store.WritePiece(j.piece, j.pb.buf)
		}
	}
	j.t.diskDone <- r
}

// handleDisk applies a hash job's result.
func (t *Torrent) handleDisk(r diskResult) {
	t.writing--
	t.diskBytes -= int64(len(r.pb.buf))
	defer t.freePieceBuf(r.pb)
	if t.closing.Load() {
		return
	}
	if r.err != nil {
		t.pick.PieceFailed(r.piece)
		t.fail(r.err)
		return
	}
	if r.ok {
		t.gotPiece(r.piece)
		t.suggestCached(r.piece) // suggest.go
		t.emit(Event{Type: EventHashPass, Piece: r.piece})
		if fp := t.evidence[r.piece]; fp != nil {
			delete(t.evidence, r.piece)
			guilty, cleared := fp.verdict(r.blocks)
			for _, s := range cleared {
				s.badPieces = max(s.badPieces-1, 0) // exonerated
			}
			for _, s := range guilty {
				t.ban(s, "sent a corrupt block")
			}
		}
		t.checkComplete()
		return
	}
	t.emit(Event{Type: EventHashFail, Piece: r.piece})
	t.pick.PieceFailed(r.piece)
	senders := distinct(r.pb.senders)
	if len(senders) == 1 {
		// One sender for the whole piece: it is the culprit.
		t.ban(senders[0], "sent a piece that failed its hash")
		return
	}
	t.evidence[r.piece] = &failedPiece{hashes: r.blocks, senders: r.pb.senders}
	if s := strike(senders, t.cfg.MaxBadPieces); s != nil {
		t.ban(s, "sent too many pieces that failed their hash")
	}
}

// distinct returns the peers of senders once each, in order of first
// appearance, without nils (blocks nobody sent).
func distinct(senders []*peer) []*peer {
	var out []*peer
	seen := map[*peer]bool{}
	for _, s := range senders {
		if s != nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// verdict compares the block hashes a failed piece left behind with those
// of the same piece once it passed. The senders of blocks that differ lied
// (guilty); every other sender of the failed piece is cleared of the strike
// the failure gave it.
func (fp *failedPiece) verdict(passed [][20]byte) (guilty, cleared []*peer) {
	lied := map[*peer]bool{}
	for k, h := range fp.hashes {
		if s := fp.senders[k]; s != nil && k < len(passed) && h != passed[k] && !lied[s] {
			lied[s] = true
			guilty = append(guilty, s)
		}
	}
	for _, s := range distinct(fp.senders) {
		if !lied[s] {
			cleared = append(cleared, s)
		}
	}
	return guilty, cleared
}

// strike counts a failed piece against each of its distinct senders and
// returns the one to ban, or nil. Without proof, every sender gets a
// strike. A liar is among the senders of every piece it spoils, so it has
// at least as many strikes as anyone it shared pieces with: only a peer at
// the limit with strictly more strikes than every other sender is banned;
// ties wait for the evidence of the re-download (verdict).
func strike(senders []*peer, limit int) *peer {
	var worst *peer
	tie := false
	for _, s := range senders {
		s.badPieces++
		switch {
		case worst == nil || s.badPieces > worst.badPieces:
			worst, tie = s, false
		case s.badPieces == worst.badPieces:
			tie = true
		}
	}
	if worst != nil && !tie && worst.badPieces >= limit {
		return worst
	}
	return nil
}

// ban disconnects a peer that sent corrupt data and refuses it from now on:
// its address, its peer id and, unless it is on loopback (where honest
// peers share the address in tests), its IP address.
func (t *Torrent) ban(p *peer, why string) {
	if t.banned[p.addr.Addr()] || t.bannedAddr[p.addr] {
		return
	}
	t.log.Info("banning peer", "addr", p.addr, "client", p.client, "why", why)
	// Pieces it helped fail no longer count against the other senders.
	for _, fp := range t.evidence {
		ss := distinct(fp.senders)
		if !slices.Contains(ss, p) {
			continue
		}
		for _, s := range ss {
			if s != p {
				s.badPieces = max(s.badPieces-1, 0)
			}
		}
	}
	t.bannedAddr[p.addr] = true
	t.bannedID[p.peerID] = true
	if !p.addr.Addr().IsLoopback() {
		t.banned[p.addr.Addr()] = true
	}
	for q := range t.peers {
		if t.isBanned(q.addr, q.peerID) {
			q.conn.Close()
		}
	}
	t.emit(Event{Type: EventPeerBanned, Peer: p.addr, Err: fmt.Errorf("bt: banned %v: %s", p.addr, why)})
}

func (t *Torrent) isBanned(addr netip.AddrPort, peerID [20]byte) bool {
	return t.banned[addr.Addr()] || t.bannedAddr[addr] || t.bannedID[peerID]
}

// hashPool is the client's set of goroutines that hash and write pieces
// for all its torrents. Submitting never blocks the caller.
type hashPool struct {
	mu    sync.Mutex
	queue []hashJob
	wake  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
}

func newHashPool(workers int) *hashPool {
	hp := &hashPool{wake: make(chan struct{}, workers), quit: make(chan struct{})}
	for range workers {
		hp.wg.Add(1)
		go hp.work()
	}
	return hp
}

func (hp *hashPool) submit(j hashJob) {
	hp.mu.Lock()
	hp.queue = append(hp.queue, j)
	hp.mu.Unlock()
	select {
	case hp.wake <- struct{}{}:
	default:
	}
}

func (hp *hashPool) work() {
	defer hp.wg.Done()
	for {
		hp.mu.Lock()
		if len(hp.queue) > 0 {
			j := hp.queue[0]
			hp.queue[0] = hashJob{}
			hp.queue = hp.queue[1:]
			more := len(hp.queue) > 0
			hp.mu.Unlock()
			if more {
				select {
				case hp.wake <- struct{}{}:
				default:
				}
			}
			j.run()
			continue
		}
		hp.mu.Unlock()
		select {
		case <-hp.wake:
		case <-hp.quit:
			return
		}
	}
}

// close stops the workers once the queue is empty. Torrents are closed
// first, and each waits for its own jobs, so the queue is empty by then.
func (hp *hashPool) close() {
	close(hp.quit)
	hp.wg.Wait()
}
