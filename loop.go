package bt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/internal/termtext"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
)

// tickInterval paces the loop's housekeeping: rates, pipelines, dialing,
// time-outs. The choker runs every chokeInterval.
const (
	tickInterval  = 500 * time.Millisecond
	chokeInterval = 10 * time.Second
)

// run is the torrent's event loop: the one goroutine that owns its state.
func (t *Torrent) run(initial State) {
	defer close(t.done)
	if m := t.meta.Load(); m != nil {
		if err := t.activate(m.mi); err != nil {
			t.fail(err)
		}
	} else if t.fetcher != nil {
		t.waitMetadata()
	}
	if t.err == nil {
		t.changeState(initial)
	}
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	for {
		events := t.events
		if t.diskBytes >= t.cfg.DiskQueueBytes {
			events = nil // back-pressure: peers' readers block, sockets unread
		}
		select {
		case f := <-t.cmds:
			f()
		case e := <-events:
			t.handlePeerEvent(e)
		case <-t.timeouts.wake:
			for _, e := range t.timeouts.take() {
				t.handlePeerEvent(e)
			}
		case r := <-t.diskDone:
			t.handleDisk(r)
		case now := <-tick.C:
			t.tick(now)
		case <-t.quit:
			t.teardown()
			return
		}
	}
}

// activate sets up everything that needs the info dictionary: storage,
// picker, and the initial check.
func (t *Torrent) activate(mi *metainfo.MetaInfo) error {
	info := &mi.Info
	layout := info.Layout()
	n := layout.NumPieces
	t.pick = picker.New(n, layout.PieceLength, layout.TotalLength, nil)
	if len(t.filePrio) != len(layout.Files) {
		prio := make([]int, len(layout.Files))
		for i := range prio {
			prio[i] = PriorityNormal
			if i < len(t.filePrio) {
				prio[i] = t.filePrio[i]
			}
		}
		t.filePrio = prio
	}
	empty := bitfield.New(n)
	t.have.Store(&empty)
	t.meta.Store(&metaState{mi: mi, info: info, layout: layout})
	t.applyPriorities()
	return nil
}

// openStore opens the files (on start and after a stop).
func (t *Torrent) openStore() error {
	m := t.meta.Load()
	if m == nil || t.store != nil {
		return nil
	}
	st, err := storage.Open(t.dir, m.layout, func(i int) [20]byte { return m.info.PieceHash(i) },
		storage.Options{InfoHash: t.infoHash, FilePriorities: t.filePrio, Logger: t.log, Files: t.client.files})
	if err != nil {
		return fmt.Errorf("bt: opening storage in %s: %w", t.dir, err)
	}
	t.store = st
	t.meta.Store(&metaState{mi: m.mi, info: m.info, layout: m.layout, store: st})
	return nil
}

func (t *Torrent) closeStore() {
	if st := t.detachStore(); st != nil {
		if err := st.Close(); err != nil && t.err == nil {
			t.log.Warn("closing storage", "err", err)
		}
	}
}

// detachStore takes the store from the torrent, for its caller to close.
func (t *Torrent) detachStore() *storage.Store {
	st := t.store
	if st == nil {
		return nil
	}
	m := t.meta.Load()
	t.meta.Store(&metaState{mi: m.mi, info: m.info, layout: m.layout})
	t.store = nil
	return st
}

// applyPriorities maps file priorities to piece priorities: a piece gets
// the highest priority of the files it touches (pad files excepted).
func (t *Torrent) applyPriorities() {
	m := t.meta.Load()
	if m == nil {
		return
	}
	prio := make([]int, m.layout.NumPieces)
	for f, fe := range m.layout.Files {
		if fe.Pad || fe.Length == 0 {
			continue
		}
		first, end := m.layout.FilePieces(f)
		for i := first; i < end; i++ {
			prio[i] = max(prio[i], t.filePrio[f])
		}
	}
	t.rd.raise(prio)
	t.pick.SetPriorities(func(i int) int { return prio[i] })
	if t.store != nil {
		for f, p := range t.filePrio {
			if err := t.store.SetFilePriority(f, p); err != nil {
				t.log.Warn("file priority", "file", f, "err", err)
			}
		}
	}
	t.completed = t.completed && t.pick.Complete()
	t.updateInterest()
}

// changeState moves the torrent to state s.
func (t *Torrent) changeState(s State) error {
	if t.err != nil && s != Stopped {
		// Starting again after an error: clear it and try once more.
		t.err = nil
	}
	old := t.state
	t.state = s
	t.stateA.Store(int32(s))
	switch s {
	case Stopped:
		t.serving.Store(false)
		for p := range t.peers {
			p.conn.Close()
		}
		t.stopSources()
		t.stopFiles() // resume.go
	case Paused, Started:
		if err := t.openStore(); err != nil {
			t.fail(err)
			return err
		}
		if old == Stopped || t.pick != nil && !t.checkedOnce {
			if t.pick != nil && !t.checkedOnce {
				t.checkedOnce = true
				t.initialCheck()
			}
		}
		t.serving.Store(s == Started && !t.checking)
		if s == Paused {
			for p := range t.peers {
				t.cancelAll(p)
				if !p.amChoking {
					p.amChoking = true
					p.conn.Choke()
				}
			}
		} else {
			if old == Stopped {
				t.redialKnown() // faults.go: after a stop, reconnect at once
			}
			t.startSources()
			t.dialMore()
			t.chokeRound(time.Now())
			for p := range t.peers {
				t.fillRequests(p)
			}
		}
	}
	if old != s {
		t.emit(Event{Type: EventStateChanged, State: s})
	}
	return nil
}

// fail stops the torrent because of err (a storage error): it never keeps
// going, and never loops re-requesting.
func (t *Torrent) fail(err error) {
	if t.err != nil {
		return
	}
	t.log.Error("torrent stopped", "err", err)
	t.changeState(Stopped)
	t.err = err
	t.emit(Event{Type: EventError, Err: err})
	t.wakeWaiters()
}

func (t *Torrent) wakeWaiters() {
	t.rd.signal()
	for _, w := range t.waiters {
		close(w)
	}
	t.waiters = nil
}

// startCheck hash-checks pieces (nil: all) in the background.
func (t *Torrent) startCheck(pieces []int, report bool) error {
	if t.pick == nil {
		return errors.New("bt: no metadata yet")
	}
	if t.checking {
		return errors.New("bt: a hash check is already running")
	}
	if err := t.openStore(); err != nil {
		return err
	}
	st := t.store
	t.checking = true
	t.serving.Store(false)
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		type res struct {
			i  int
			ok bool
		}
		var results []res
		ctx, cancel := context.WithCancel(context.Background())
		stop := context.AfterFunc(t.ctx, cancel)
		t.countCheck(pieces)
		err := st.Check(ctx, pieces, func(i int, ok bool) {
			results = append(results, res{i, ok})
			t.checkedN.Add(1)
		})
		stop()
		cancel()
		t.post(func() {
			t.checking = false
			if err != nil && !errors.Is(err, context.Canceled) {
				t.fail(fmt.Errorf("bt: hash check: %w", err))
				return
			}
			lost := false
			for _, r := range results {
				if r.ok {
					t.gotPiece(r.i)
					t.emit(Event{Type: EventHashPass, Piece: r.i})
				} else {
					if t.pick.Have(r.i) {
						t.lostPiece(r.i)
						lost = true
					}
					if report {
						t.emit(Event{Type: EventHashFail, Piece: r.i})
					}
				}
			}
			t.emit(Event{Type: EventCheckDone})
			t.serving.Store(t.state == Started)
			t.updateInterest()
			if lost {
				// Data to fetch again: peers dropped as fellow seeds are
				// worth calling back now.
				for _, k := range t.known {
					k.next = time.Time{}
				}
				t.dialMore()
			}
			t.checkComplete()
			if t.state == Started {
				for p := range t.peers {
					t.fillRequests(p)
				}
			}
		})
	}()
	return nil
}

// gotPiece records piece i as verified and stored, and tells every peer.
func (t *Torrent) gotPiece(i int) {
	if t.pick.Have(i) {
		return
	}
	t.pick.MarkHave(i)
	nb := t.pick.Bitfield()
	t.have.Store(&nb)
	t.rd.signal()
	for p := range t.peers {
		if p.started {
			p.conn.Have(i)
		}
	}
}

// lostPiece records piece i as no longer had (a failed recheck).
func (t *Torrent) lostPiece(i int) {
	t.pick.MarkMissing(i)
	nb := t.pick.Bitfield()
	t.have.Store(&nb)
	t.completed = false
}

// checkComplete makes the data durable and announces completion once every
// wanted piece is written.
func (t *Torrent) checkComplete() {
	if t.pick == nil || t.completed || t.syncing || t.checking || t.writing > 0 || !t.pick.Complete() {
		return
	}
	st := t.store
	if st == nil {
		return
	}
	t.syncing = true
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		err := t.syncStore(st)
		t.post(func() {
			t.syncing = false
			if err != nil {
				t.fail(fmt.Errorf("bt: syncing data: %w", err))
				return
			}
			if !t.pick.Complete() {
				return
			}
			t.completed = true
			t.log.Info("download complete", termtext.Attr("name", t.Name()))
			t.emit(Event{Type: EventComplete})
			t.resumeCompleted()
			t.wakeWaiters()
			t.announceAll(AnnounceCompleted)
			t.updateInterest()
			if t.Seeding() {
				// Two seeds have nothing to say to each other.
				for p := range t.peers {
					if p.seed || p.has.Len() > 0 && p.has.All() {
						p.conn.Close()
					}
				}
			}
		})
	}()
}

// tick does the periodic work.
func (t *Torrent) tick(now time.Time) {
	t.resumeTick(now)
	for p := range t.peers {
		p.sample(now)
	}
	if t.state != Started || t.pick == nil {
		t.takePEXPeers()
		t.sourcesTick(now)
		t.dialMore()
		return
	}
	for p := range t.peers {
		t.checkPeer(p, now)
	}
	if now.Sub(t.lastChoke) >= chokeInterval {
		t.chokeRound(now)
	}
	for p := range t.peers {
		t.fillRequests(p)
	}
	t.takePEXPeers()
	t.sourcesTick(now)
	t.dialMore()
}

// teardown ends everything the loop started and waits for it.
func (t *Torrent) teardown() {
	t.cancel()
	t.serving.Store(false)
	for p := range t.peers {
		p.conn.Close()
	}
	for p := range t.peers {
		<-p.conn.Done()
	}
	t.lim.wg.Wait() // upload queues (limits.go)
	t.peers = nil
	if t.fetcher != nil {
		t.fetcher.Close()
	}
	// Let pending piece writes finish so nothing is lost, then close.
	for t.writing > 0 {
		r := <-t.diskDone
		t.handleDisk(r)
	}
	t.bg.Wait()
	t.saveResumeNow()
	t.closeStore()
	t.stopSources()
	t.sourcesWait()
}
