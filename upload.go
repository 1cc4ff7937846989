package bt

import (
	"sync"
	"time"

	"github.com/bt-go/bt/internal/choker"
)

// Uploading: who is unchoked, and answering requests.

// maybeUnchoke unchokes an interested peer at once when a slot is free, so
// transfers start without waiting for the next choke round.
func (t *Torrent) maybeUnchoke(p *peer) {
	if t.state != Started || !p.amChoking || !t.uploadAllowed() {
		return
	}
	unchoked := 0
	for q := range t.peers {
		if !q.amChoking {
			unchoked++
		}
	}
	if unchoked < t.cfg.UploadSlots+1 {
		p.amChoking = false
		p.lastUnchoke = time.Now()
		p.conn.Unchoke()
	}
}

// uploadAllowed reports whether we may upload at all.
func (t *Torrent) uploadAllowed() bool {
	return t.state == Started && !(t.cfg.NoSeed && t.completed) && t.have.Load() != nil
}

// chokeRound runs the choker and applies its decision.
func (t *Torrent) chokeRound(now time.Time) {
	t.lastChoke = now
	if t.pick == nil {
		return
	}
	// The choker remembers its optimistic peer by ID across rounds: the
	// ID must be the peer's own, not its place in this round's list.
	var ps []choker.Peer
	list := make([]*peer, 0, len(t.peers))
	for p := range t.peers {
		if !p.started {
			continue
		}
		list = append(list, p)
		ps = append(ps, choker.Peer{
			ID: int(p.id), Interested: p.peerInterested, Snubbed: p.snubbed,
			DownloadRate: p.downRate.value, UploadRate: p.upRate.value,
			Connected: p.connectedAt, Choked: p.amChoking, LastUnchoked: p.lastUnchoke,
		})
	}
	unchoke := make(map[int]bool)
	if t.uploadAllowed() {
		t.choke.Slots = t.cfg.UploadSlots
		for _, id := range t.choke.Round(now, ps, t.Seeding() || t.completed).Unchoke {
			unchoke[id] = true
		}
	}
	for _, p := range list {
		switch {
		case unchoke[int(p.id)] && p.amChoking:
			p.amChoking = false
			p.lastUnchoke = now
			p.conn.Unchoke()
		case !unchoke[int(p.id)] && !p.amChoking:
			p.amChoking = true
			p.conn.Choke()
		}
	}
}

// serveRequest answers a peer's request. It runs on the peer's read
// goroutine, which must not wait for the disk (wire.Handler): the block is
// read and sent by the client's pool of disk readers, or, under an upload
// limit, by the peer's upload goroutine once tokens allow (limits.go). Only
// state published atomically by the loop is consulted. The queue is
// bounded by the Conn: each job is one of the peer's pending requests, at
// most wire.Config.MaxPeerRequests of them.
func (t *Torrent) serveRequest(p *peer, index, begin, length int) {
	if _, ok := t.mayServe(index); ok && t.queueUpload(p, index, begin, length) {
		return
	}
	t.client.readers.submit(readJob{t: t, p: p, index: index, begin: begin, length: length})
}

// readJob is a request to read and send.
type readJob struct {
	t                    *Torrent
	p                    *peer
	index, begin, length int
}

// readPool is the client's set of goroutines that read requested blocks
// and send them, for all its torrents. Submitting never blocks.
type readPool struct {
	mu    sync.Mutex
	queue []readJob
	wake  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
}

func newReadPool(workers int) *readPool {
	rp := &readPool{wake: make(chan struct{}, workers), quit: make(chan struct{})}
	for range workers {
		rp.wg.Go(rp.work)
	}
	return rp
}

func (rp *readPool) submit(j readJob) {
	rp.mu.Lock()
	rp.queue = append(rp.queue, j)
	rp.mu.Unlock()
	select {
	case rp.wake <- struct{}{}:
	default:
	}
}

func (rp *readPool) work() {
	for {
		rp.mu.Lock()
		if len(rp.queue) == 0 {
			rp.queue = nil // let a burst's backing array go
			rp.mu.Unlock()
			select {
			case <-rp.wake:
				continue
			case <-rp.quit:
				return
			}
		}
		j := rp.queue[0]
		rp.queue[0] = readJob{}
		rp.queue = rp.queue[1:]
		rp.mu.Unlock()
		j.run()
	}
}

// run reads and sends the block, unless the peer no longer wants it
// (canceled, choked, or gone).
func (j *readJob) run() {
	if !j.p.conn.HasPeerRequest(j.index, j.begin, j.length) {
		return
	}
	if d := j.t.client.slowRead; d > 0 {
		time.Sleep(d)
	}
	j.t.sendBlock(j.p, j.index, j.begin, j.length)
}

// close stops the workers; requests still queued are dropped (their
// connections are closing with the client).
func (rp *readPool) close() {
	close(rp.quit)
	rp.wg.Wait()
}

// mayServe reports whether piece index may be served now, with the state
// to read it from.
func (t *Torrent) mayServe(index int) (*metaState, bool) {
	m := t.meta.Load()
	h := t.have.Load()
	return m, t.serving.Load() && m != nil && m.store != nil && h != nil && h.Has(index)
}

// sendBlock reads a requested block and sends it, or rejects the request
// when it may not be served (any more).
func (t *Torrent) sendBlock(p *peer, index, begin, length int) {
	m, ok := t.mayServe(index)
	if !ok {
		p.conn.Reject(index, begin, length)
		return
	}
	buf := getBlockBuf(length)
	defer putBlockBuf(buf)
	if err := m.store.ReadBlock(index, int64(begin), buf); err != nil {
		p.conn.Reject(index, begin, length)
		t.post(func() { t.readFailed(m, index, err) })
		return
	}
	p.conn.Piece(index, begin, buf)
}
