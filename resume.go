package bt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
	"github.com/bt-go/bt/storage"
)

// Resume data (package resume) lets a torrent restart without hashing
// every byte again. With Config.StateDir set, each torrent keeps a record
// in the state directory: its verified pieces, the sizes and times of its
// files, priorities and totals. It is written in the background every
// Config.ResumeInterval when something changed, on completion, and before
// the files close: in the background too when the torrent stops, on the
// ending loop's goroutine when it closes.
//
// The invariant that makes a crash harmless: a piece is recorded only after
// storage.Store.Sync covered it. A save takes the snapshot of verified
// pieces on the loop, then (off the loop) syncs the store, stats the files
// and writes the record atomically. Pieces verified after the snapshot are
// in no record yet; after a crash they are fetched again, or found by the
// check of their file, whose modification time our own later writes moved.

// resumeState is a torrent's share of the resume machinery. Fields are
// owned by the loop unless marked otherwise.
type resumeState struct {
	dir      *resume.Dir // nil: no state directory
	interval time.Duration
	rec      *resume.Data // the record found when the torrent was added

	ready        bool // the initial check is done: the record may be written
	fullSync     bool // pieces were found by a check: fsync every file first
	torrentSaved bool
	torrentRetry atomic.Bool  // writing the .torrent failed: the next save writes it
	baseUp       atomic.Int64 // totals of earlier sessions
	baseDown     atomic.Int64
	addedAt      time.Time
	completedAt  time.Time

	// What the last save recorded, to see whether anything changed.
	lastHave  *bitfield.Bitfield
	lastPrio  []int
	lastState State
	lastErr   bool
	lastUp    int64
	lastDown  int64
	lastSave  time.Time
	seq       uint64
	busy      atomic.Bool // a background save runs
	retry     atomic.Bool // the last background save failed: try again

	// Shared by the loop and background saves.
	// mu serialises writes of the record and is held across their Sync,
	// Stat and Save. The loop never takes it: only saves in the background
	// and forgetResume (on Torrent.Close's caller) wait for it.
	mu        sync.Mutex
	written   uint64             // seq of the last record written; guarded by mu
	removed   bool               // the torrent was removed: write nothing; guarded by mu
	lastStats []storage.FileStat // the files at the last save; guarded by mu
	lastPart  storage.FileStat
}

// loadResume reads the record of torrent ih from the state directory, if
// any, and lets it supply the file priorities the options leave unset. It
// runs on the caller's goroutine, before the torrent exists.
func (c *Client) loadResume(ih metainfo.Hash, o *TorrentOptions) *resume.Data {
	if c.state == nil {
		return nil
	}
	rec, err := c.state.Load(ih)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.cfg.Logger.Warn("ignoring resume data; the torrent will be checked in full", "torrent", ih, "err", err)
		}
		return nil
	}
	if o.FilePriorities == nil && len(rec.Files) > 0 {
		o.FilePriorities = make([]int, len(rec.Files))
		for i, f := range rec.Files {
			o.FilePriorities[i] = f.Priority
		}
	}
	return rec
}

// attachResume sets up t's resume state and records a new torrent in the
// state directory (its .torrent, or for a magnet link a first record).
func (c *Client) attachResume(t *Torrent, rec *resume.Data) {
	if c.state == nil {
		return
	}
	r := &t.res
	r.dir, r.interval, r.rec = c.state, c.cfg.ResumeInterval, rec
	r.addedAt = time.Now()
	if rec != nil {
		r.baseUp.Store(rec.Uploaded)
		r.baseDown.Store(rec.Downloaded)
		if !rec.AddedAt.IsZero() {
			r.addedAt = rec.AddedAt
		}
		r.completedAt = rec.CompletedAt
	}
	m := t.meta.Load()
	if m != nil {
		r.torrentSaved = t.queueTorrentFile(m.mi)
	}
	if rec == nil {
		// A first record, with no pieces, so that the torrent is restored
		// in its directory, state and priorities even if it never gets as
		// far as a save.
		d := t.resumeSnapshot()
		d.Have.ClearAll()
		if m != nil {
			prios := make([]int, len(m.layout.Files))
			for i := range prios {
				prios[i] = PriorityNormal
				if i < len(t.filePrio) {
					prios[i] = t.filePrio[i]
				}
			}
			d.Files = resume.Files(m.layout, prios, nil)
		}
		p, err := d.Encode()
		if err != nil {
			t.log.Warn("recording the torrent", "err", err)
			return
		}
		c.stateW.write(r.dir.ResumePath(t.infoHash), p, func(err error) {
			if err != nil {
				// Not lost: the first save once the torrent is ready
				// tries again.
				t.log.Warn("recording the torrent", "err", err)
				r.retry.Store(true)
			}
		})
	}
}

// queueTorrentFile records the torrent's metainfo in the state directory,
// unless it is there, without waiting (the state writer batches it with
// others). A failure makes the next save try again.
func (t *Torrent) queueTorrentFile(mi *metainfo.MetaInfo) bool {
	r := &t.res
	path := r.dir.TorrentPath(t.infoHash)
	if _, err := os.Stat(path); err == nil {
		return true
	}
	p, err := mi.Marshal()
	if err != nil {
		t.log.Warn("recording the torrent", "err", err)
		return false
	}
	t.client.stateW.write(path, p, func(err error) {
		if err != nil {
			t.log.Warn("recording the torrent", "err", err)
			r.torrentRetry.Store(true)
			r.retry.Store(true)
		}
	})
	return true
}

// saveTorrentFile records the metainfo and waits for it to be written.
func (t *Torrent) saveTorrentFile(mi *metainfo.MetaInfo) bool {
	path := t.res.dir.TorrentPath(t.infoHash)
	if _, err := os.Stat(path); err == nil {
		return true
	}
	p, err := mi.Marshal()
	if err == nil {
		err = t.client.stateW.writeWait(path, p)
	}
	if err != nil {
		t.log.Warn("recording the torrent", "err", err)
		return false
	}
	return true
}

// forgetResume deletes t's state files: the torrent was removed.
func (c *Client) forgetResume(t *Torrent) {
	r := &t.res
	if r.dir == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = true
	c.stateW.forget(r.dir.ResumePath(t.infoHash), r.dir.TorrentPath(t.infoHash))
	if err := r.dir.Remove(t.infoHash); err != nil {
		t.log.Warn("removing resume data", "err", err)
	}
}

// TotalUploaded and TotalDownloaded return the payload totals over every
// session the state directory remembers (the session's alone without one).
func (t *Torrent) TotalUploaded() int64 { return t.res.baseUp.Load() + t.uploaded.Load() }

// TotalDownloaded returns the payload bytes received over all sessions.
func (t *Torrent) TotalDownloaded() int64 { return t.res.baseDown.Load() + t.downloaded.Load() }

// resumeSnapshot captures what a record needs from the loop's state.
// Files and Part are filled in by the save, after the sync.
func (t *Torrent) resumeSnapshot() *resume.Data {
	r := &t.res
	d := &resume.Data{
		InfoHash: t.infoHash, Name: t.Name(), Dir: t.dir, State: t.State().String(),
		Uploaded: t.TotalUploaded(), Downloaded: t.TotalDownloaded(),
		AddedAt: r.addedAt, CompletedAt: r.completedAt, SavedAt: time.Now(),
		Have: bitfield.New(0),
	}
	if t.err != nil && t.state == Stopped {
		// Stopped by an error (a full disk): try again next time.
		d.State = Started.String()
	}
	m := t.meta.Load()
	if m == nil {
		if t.magnet != nil {
			d.Magnet = t.magnet.String()
			for _, tr := range t.magnet.Trackers {
				d.Trackers = append(d.Trackers, []string{tr})
			}
		}
		return d
	}
	d.Trackers = m.mi.Trackers()
	d.PieceLength, d.NumPieces = m.layout.PieceLength, m.layout.NumPieces
	if h := t.have.Load(); h != nil && h.Len() == d.NumPieces {
		d.Have = h.Clone()
	} else {
		d.Have = bitfield.New(d.NumPieces)
	}
	return d
}

// resumeDirty reports whether the record on disk is out of date.
func (t *Torrent) resumeDirty() bool {
	r := &t.res
	return r.retry.Load() || t.have.Load() != r.lastHave || t.state != r.lastState || r.lastErr != (t.err != nil) ||
		!slices.Equal(t.filePrio, r.lastPrio) ||
		t.uploaded.Load() != r.lastUp || t.downloaded.Load() != r.lastDown
}

// resumeTick saves the record in the background when it changed and the
// interval has passed.
func (t *Torrent) resumeTick(now time.Time) {
	r := &t.res
	if r.dir == nil || !r.ready || r.busy.Load() {
		return
	}
	if !t.resumeDirty() {
		return
	}
	// Between intervals, a save comes early once resumeEvery bytes were
	// verified since the last: a crash then costs the recheck of little.
	if since := now.Sub(r.lastSave); since < r.interval &&
		(since < resumeMinGap || t.verifiedSinceSave() < t.resumeEvery()) {
		return
	}
	t.saveResume(false)
}

// A save comes before its interval once resumeEvery of the torrent (or
// resumeEveryMax bytes, if less) was verified since the last one, at
// most every resumeMinGap (a save syncs the files).
const (
	resumeEvery    = 16 // a sixteenth
	resumeEveryMax = 32 << 20
	resumeMinGap   = 2 * time.Second
)

// resumeEvery is the verified bytes that make an early save.
func (t *Torrent) resumeEvery() int64 {
	m := t.meta.Load()
	if m == nil {
		return resumeEveryMax
	}
	return min(max(m.layout.TotalLength/resumeEvery, m.layout.PieceLength), resumeEveryMax)
}

// verifiedSinceSave is about the bytes of pieces verified since the last
// save.
func (t *Torrent) verifiedSinceSave() int64 {
	m, have, last := t.meta.Load(), t.have.Load(), t.res.lastHave
	if m == nil || have == nil {
		return 0
	}
	n := have.Count()
	if last != nil {
		n -= last.Count()
	}
	return int64(max(n, 0)) * m.layout.PieceLength
}

// resumeCompleted records the completion at once.
func (t *Torrent) resumeCompleted() {
	r := &t.res
	if r.dir == nil {
		return
	}
	if !r.completedAt.IsZero() && !t.resumeDirty() {
		return // restarted complete: recorded already
	}
	if r.completedAt.IsZero() {
		r.completedAt = time.Now()
	}
	if r.ready && !r.busy.Load() {
		t.saveResume(false)
	} else {
		r.lastSave = time.Time{} // at the next tick
	}
}

// saveResumeNow writes the record before the files close, waiting for it.
func (t *Torrent) saveResumeNow() {
	if t.res.dir != nil && t.res.ready {
		t.saveResume(true)
	}
}

// saveResume snapshots the state and writes the record: in the background,
// or with wait on the loop's goroutine (teardown, once the loop no longer
// answers anyone).
func (t *Torrent) saveResume(wait bool) {
	job := t.newSaveJob()
	if wait {
		job.run()
		return
	}
	t.res.busy.Store(true)
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		defer t.res.busy.Store(false)
		job.run()
	}()
}

// newSaveJob snapshots what a record needs from the loop's state.
func (t *Torrent) newSaveJob() *saveJob {
	r := &t.res
	d := t.resumeSnapshot()
	r.seq++
	r.lastHave, r.lastPrio, r.lastState = t.have.Load(), slices.Clone(t.filePrio), t.state
	r.lastUp, r.lastDown, r.lastSave = t.uploaded.Load(), t.downloaded.Load(), time.Now()
	r.lastErr = t.err != nil
	r.retry.Store(false)
	job := &saveJob{t: t, seq: r.seq, rec: d, store: t.store, prios: slices.Clone(t.filePrio),
		fullSync: r.fullSync, saveTorrent: !r.torrentSaved || r.torrentRetry.Swap(false)}
	if m := t.meta.Load(); m != nil {
		job.layout, job.mi = m.layout, m.mi
		r.torrentSaved = true
	}
	r.fullSync = r.fullSync && t.store == nil
	return job
}

// stopFiles records a stopping torrent and closes its files, both off the
// loop (the record waits for an fsync, and so does closing the store), so
// the loop keeps answering while a slow disk catches up. Pieces still on
// their way to the disk keep the store open: it closes when they are
// written, or at teardown. The record and the close happen in that order,
// and teardown waits for both (t.bg).
func (t *Torrent) stopFiles() {
	var job *saveJob
	if t.res.dir != nil && t.res.ready {
		job = t.newSaveJob()
	}
	var st *storage.Store
	if t.writing == 0 {
		st = t.detachStore()
	}
	if job == nil && st == nil {
		return
	}
	t.res.busy.Store(true)
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		defer t.res.busy.Store(false)
		if job != nil {
			job.run()
		}
		if st != nil {
			if err := st.Close(); err != nil {
				t.log.Warn("closing storage", "err", err)
			}
		}
	}()
}

// saveJob is one write of a record.
type saveJob struct {
	t           *Torrent
	seq         uint64
	rec         *resume.Data
	store       *storage.Store
	layout      *metainfo.Layout
	mi          *metainfo.MetaInfo
	prios       []int
	fullSync    bool
	saveTorrent bool
}

func (j *saveJob) run() {
	t, r := j.t, &j.t.res
	if err := j.write(); err != nil {
		r.retry.Store(true)
		if !errors.Is(err, storage.ErrClosed) {
			t.log.Warn("saving resume data", "err", err)
		}
	}
}

func (j *saveJob) write() error {
	t, r := j.t, &j.t.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed || j.seq < r.written {
		return nil
	}
	if j.saveTorrent && j.mi != nil && !t.saveTorrentFile(j.mi) {
		r.retry.Store(true)
	}
	d := j.rec
	if j.layout != nil {
		stats, part := r.lastStats, r.lastPart
		if j.store != nil {
			// The order is the invariant: the pieces in d were written
			// before this Sync, and the files are described after it.
			if j.fullSync {
				if err := syncFiles(t.dir, j.layout, j.store.PartFileName()); err != nil {
					return err
				}
			}
			if err := t.syncStore(j.store); err != nil {
				return err
			}
			var err error
			if stats, err = j.store.Stat(); err != nil {
				return err
			}
			if part, err = j.store.PartStat(); err != nil {
				return err
			}
		} else if stats == nil {
			// Never opened: no file of ours is on disk.
			d.Have.ClearAll()
		}
		r.lastStats, r.lastPart = stats, part
		d.Files, d.Part = resume.Files(j.layout, j.prios, stats), resume.PartFile(part)
	}
	p, err := d.Encode()
	if err != nil {
		return err
	}
	if err := t.client.stateW.writeWait(r.dir.ResumePath(t.infoHash), p); err != nil {
		return err
	}
	r.written = j.seq
	return nil
}

// syncStore makes what was written to the torrent's store durable.
// storage.Store.Sync serialises concurrent calls itself: one returns only
// after every fsync it depends on, so a piece recorded on its return is on
// disk.
func (t *Torrent) syncStore(st *storage.Store) error {
	if f := t.client.beforeSync; f != nil {
		f()
	}
	return st.Sync()
}

// syncFiles fsyncs every file of the torrent that exists: pieces a check
// found on disk may have been left in the page cache by a process that
// died before syncing them.
func syncFiles(dir string, l *metainfo.Layout, part string) error {
	paths := []string{filepath.Join(dir, part)}
	for _, fe := range l.Files {
		if !fe.Pad && fe.Length > 0 {
			paths = append(paths, filepath.Join(append([]string{dir}, fe.Path...)...))
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("bt: syncing: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("bt: syncing %s: %w", f.Name(), err)
		}
	}
	return nil
}
