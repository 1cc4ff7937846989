package bt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bt-go/bt/internal/termtext"
	"github.com/bt-go/bt/resume"
	"github.com/bt-go/bt/storage"
)

// The first start of a torrent: what it has is taken from its resume
// record where the record can be trusted (package resume's Plan), and from
// hash checks of the pieces whose files changed, or of everything when
// there is no usable record.

// initialCheck decides what the torrent has when it first starts: from
// the resume record where it can be trusted, by hash checks elsewhere.
func (t *Torrent) initialCheck() {
	r := &t.res
	if r.dir == nil {
		t.startCheck(nil, false)
		return
	}
	if t.checking || t.pick == nil {
		return
	}
	if err := t.openStore(); err != nil {
		t.fail(err)
		return
	}
	st, m, rec := t.store, t.meta.Load(), r.rec
	r.rec = nil
	t.checking = true
	t.serving.Store(false)
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		plan := t.resumePlan(st, m, rec)
		var results []checkResult
		var err error
		if plan == nil || len(plan.Recheck) > 0 {
			var pieces []int
			if plan != nil {
				pieces = plan.Recheck
			}
			ctx, cancel := context.WithCancel(context.Background())
			stop := context.AfterFunc(t.ctx, cancel)
			t.countCheck(pieces)
			err = st.Check(ctx, pieces, func(i int, ok bool) {
				results = append(results, checkResult{i, ok})
				t.checkedN.Add(1)
			})
			stop()
			cancel()
		}
		t.post(func() { t.initialCheckDone(plan, results, err) })
	}()
}

type checkResult struct {
	piece int
	ok    bool
}

// countCheck starts the count of a hash check of pieces (nil: all).
func (t *Torrent) countCheck(pieces []int) {
	n := len(pieces)
	if pieces == nil {
		if m := t.meta.Load(); m != nil {
			n = m.layout.NumPieces
		}
	}
	t.checkedN.Store(0)
	t.checkN.Store(int64(n))
}

// resumePlan validates the record against the torrent and its files. nil
// means check everything.
func (t *Torrent) resumePlan(st *storage.Store, m *metaState, rec *resume.Data) *resume.Plan {
	if rec == nil {
		return nil
	}
	if rec.Dir != "" && rec.Dir != t.dir {
		t.log.Info("resume data is for another download directory; checking everything", termtext.Attr("recorded", rec.Dir))
		return nil
	}
	stats, err := st.Stat()
	var part storage.FileStat
	if err == nil {
		part, err = st.PartStat()
	}
	if err != nil {
		t.log.Warn("resume: describing the files; checking everything", "err", err)
		return nil
	}
	if rec.Magnet != "" && len(rec.Files) == 0 {
		// A magnet link recorded before its metadata came: nothing to
		// trust, and nothing wrong either.
		t.log.Debug("resume record predates the metadata; checking everything")
		return nil
	}
	plan, err := rec.Plan(t.infoHash, m.layout, stats, part)
	if err != nil {
		t.log.Warn("ignoring resume data; checking everything", "err", err)
		return nil
	}
	t.log.Info("resuming", "trusted", plan.Trusted.Count(), "recheck", len(plan.Recheck), "changed files", len(plan.Changed))
	return plan
}

// initialCheckDone applies the plan and the check's results on the loop.
func (t *Torrent) initialCheckDone(plan *resume.Plan, results []checkResult, err error) {
	t.checking = false
	if err != nil && !errors.Is(err, context.Canceled) {
		t.fail(fmt.Errorf("bt: hash check: %w", err))
		return
	}
	r := &t.res
	if plan != nil {
		if len(t.peers) == 0 {
			// No one to tell: mark them all, publish once.
			for i := plan.Trusted.Next(0); i >= 0; i = plan.Trusted.Next(i + 1) {
				if !t.pick.Have(i) {
					t.pick.MarkHave(i)
				}
			}
			nb := t.pick.Bitfield()
			t.have.Store(&nb)
		} else {
			for i := plan.Trusted.Next(0); i >= 0; i = plan.Trusted.Next(i + 1) {
				t.gotPiece(i)
			}
		}
	}
	found := false
	for _, res := range results {
		if res.ok {
			t.gotPiece(res.piece)
			found = true
			t.emit(Event{Type: EventHashPass, Piece: res.piece})
		} else if t.pick.Have(res.piece) {
			t.lostPiece(res.piece)
		}
	}
	if err == nil {
		r.ready = true
		r.fullSync = r.fullSync || found
		if plan != nil && len(plan.Recheck) == 0 {
			// Nothing new to record.
			r.lastHave, r.lastPrio, r.lastState = t.have.Load(), slices.Clone(t.filePrio), t.state
			r.lastSave = time.Now()
		}
	}
	t.emit(Event{Type: EventCheckDone})
	t.serving.Store(t.state == Started)
	t.updateInterest()
	t.checkComplete()
	if t.state == Started {
		for p := range t.peers {
			t.fillRequests(p)
		}
	}
}
