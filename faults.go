package bt

import (
	"errors"
	"fmt"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/storage"
)

// Faults under a running torrent. The engine never serves what it cannot
// vouch for:
//
//   - A full disk (storage.ErrNoSpace), refused access or an I/O error while
//     writing stops the torrent with the error (EventError, Err): the piece
//     being written is fetched again later, every piece verified before stays
//     verified, and Start tries again once the cause is gone.
//   - Data that vanished under a torrent (a file deleted or truncated: reads
//     fail with storage.ErrNotPresent) marks the piece missing, so it is no
//     longer served, reports EventDataMissing and starts a recheck of the
//     whole torrent to find the rest of the damage; pieces that fail it are
//     downloaded again.
//   - Data changed in place keeps its size and reads fine: HashCheck finds
//     it, and the pieces that fail are marked missing and no longer served.

// readFailed handles a failed read of piece i from the store of m (a peer's
// request or a Reader). It runs on the loop.
func (t *Torrent) readFailed(m *metaState, i int, err error) {
	if t.store == nil || t.store != m.store || t.pick == nil {
		return // the files were closed or reopened meanwhile
	}
	if !errors.Is(err, storage.ErrNotPresent) {
		t.fail(fmt.Errorf("bt: reading piece %d: %w", i, err))
		return
	}
	if !t.pick.Have(i) {
		return // already known
	}
	t.log.Warn("verified data is missing from disk; rechecking", "piece", i, "err", err)
	t.lostPiece(i)
	t.emit(Event{Type: EventDataMissing, Piece: i, Err: err})
	if !t.checking {
		if cerr := t.startCheck(nil, true); cerr != nil {
			t.log.Warn("recheck after missing data", "err", cerr)
		}
	}
	t.updateInterest()
	for p := range t.peers {
		t.fillRequests(p)
	}
}

// redialKnown makes every known address dialable at once (a torrent
// started again after a stop or an error reconnects without waiting for
// the retry timers).
func (t *Torrent) redialKnown() {
	for _, k := range t.known {
		k.next = time.Time{}
	}
}

// rejectBackoff is how long a piece a peer refused while unchoking us is
// not asked of it again. A peer that lost data under it (see readFailed)
// cannot take back its have messages; it rejects instead, and without this
// the pipeline would fill with the same refused requests again and again.
const rejectBackoff = 5 * time.Second

// noteReject records that p refused the block of piece i at begin. Only a
// request still outstanding counts: the rejects that answer our cancels
// (BEP 6) and a choke's say nothing about the piece.
func (p *peer) noteReject(i, begin int) {
	b := picker.Block{Piece: i, Index: begin / picker.BlockSize}
	if _, ok := p.cancelled[b]; ok {
		delete(p.cancelled, b) // the answer to a cancel of ours
		return
	}
	if _, ok := p.reqs[b]; !ok || p.peerChoking {
		return
	}
	if p.rejected == nil {
		p.rejected = make(map[int]time.Time)
	}
	p.rejected[i] = time.Now()
}

// maskRejected removes from what pe offers the pieces p refused recently.
func (p *peer) maskRejected(pe *picker.Peer) {
	if len(p.rejected) == 0 {
		return
	}
	now := time.Now()
	var has bitfield.Bitfield
	for i, at := range p.rejected {
		if now.Sub(at) > rejectBackoff {
			delete(p.rejected, i)
			continue
		}
		if has.Len() == 0 {
			if pe.Seed {
				has = bitfield.Full(p.t.pick.NumPieces())
			} else {
				has = pe.Has.Clone()
			}
		}
		if i >= 0 && i < has.Len() {
			has.Clear(i)
		}
	}
	if has.Len() > 0 {
		pe.Has, pe.Seed = has, false
	}
}
