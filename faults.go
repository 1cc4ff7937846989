package bt

import (
	"errors"
	"fmt"

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
