package bt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
)

// Streaming. A Reader reads one file of a torrent while it downloads: it
// raises the priority of the pieces just ahead of its position (the
// read-ahead window), blocks until the piece under the position is
// verified and written, and returns bytes of verified pieces only. The
// window's pieces rank above every file priority, nearest first, so the
// picker fetches them in order ahead of everything else; the rest of the
// torrent keeps downloading by its file priorities. Several readers may be
// open at once (the windows add up). A file of priority PrioritySkip can be
// read too: only the pieces the reader needs are fetched.

// DefaultReadahead is the read-ahead window of a new Reader.
const DefaultReadahead = 8 << 20

// Priorities of pieces in a read-ahead window: readerPriority for the
// farthest, up to readerPriority+readerLevels for the piece under the
// position.
const (
	readerPriority = MaxPriority + 1
	readerLevels   = 64
)

// readerRecheck bounds how long a blocked read waits before looking at the
// torrent's state again, in case a wake-up was missed (a stop, a restart).
const readerRecheck = time.Second

// ErrReaderClosed is returned by the methods of a closed Reader.
var ErrReaderClosed = errors.New("bt: reader closed")

// readers is a torrent's share of the streaming machinery.
type readers struct {
	windows map[*readWindow]struct{} // owned by the loop

	mu   sync.Mutex
	wake chan struct{} // closed when pieces arrive or the torrent fails; nil when nobody waits
}

// readWindow is the range of pieces a reader (or one ReadAt call) wants
// next: [first, end), first the most urgent.
type readWindow struct {
	first, end int // owned by the loop

	// What the window's user last asked for, to skip asking again; owned
	// by the user (one Reader under its lock, or one ReadAt call).
	askFirst, askEnd int
}

// signal wakes every blocked read. It is cheap when nobody waits.
func (r *readers) signal() {
	r.mu.Lock()
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
	r.mu.Unlock()
}

// waitChan returns a channel closed at the next signal.
func (r *readers) waitChan() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wake == nil {
		r.wake = make(chan struct{})
	}
	return r.wake
}

// raise lifts the priorities of the pieces in read windows; it runs on the
// loop from applyPriorities, on the per-piece priorities of the files.
func (r *readers) raise(prio []int) {
	for w := range r.windows {
		for i := w.first; i < w.end && i < len(prio); i++ {
			prio[i] = max(prio[i], readerPriority+max(readerLevels-(i-w.first), 0))
		}
	}
}

// setWindow installs, moves or (with first == end) removes w on the loop
// and re-plans the requests.
func (t *Torrent) setWindow(w *readWindow, first, end int) error {
	if first >= end {
		first, end = 0, 0
	}
	if w.askFirst == first && w.askEnd == end {
		return nil
	}
	w.askFirst, w.askEnd = first, end
	return t.call(func() {
		if first >= end {
			if _, ok := t.rd.windows[w]; !ok {
				return
			}
			delete(t.rd.windows, w)
		} else {
			if _, ok := t.rd.windows[w]; ok && w.first == first && w.end == end {
				return
			}
			if t.rd.windows == nil {
				t.rd.windows = make(map[*readWindow]struct{})
			}
			w.first, w.end = first, end
			t.rd.windows[w] = struct{}{}
		}
		if t.pick == nil {
			return
		}
		t.applyPriorities()
		if first < end {
			t.hurry(first)
		}
		for p := range t.peers {
			t.fillRequests(p)
		}
	})
}

// hurryPeers is how many peers drop their queued requests for a piece a
// reader waits for.
const hurryPeers = 4

// hurry makes room for piece u, under a reader's position, when it is
// neither here nor asked for (a seek, a reader just opened): the fastest
// few peers that have it drop their outstanding requests of lower
// priority, so that the refill that follows asks for u first instead of
// queueing it behind seconds of other blocks. It runs on the loop.
func (t *Torrent) hurry(u int) {
	if t.pick.Have(u) || slices.Contains(t.pick.InProgress(), u) {
		return
	}
	var ps []*peer
	for p := range t.peers {
		if p.started && !p.peerChoking && (p.seed || p.has.Has(u)) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *peer) int { return cmp.Compare(b.downRate.value, a.downRate.value) })
	now := time.Now()
	for _, p := range ps[:min(len(ps), hurryPeers)] {
		// The peer may answer each cancel with a reject (BEP 6) after we
		// asked for the block again: remember them, so that such a reject
		// does not count against the piece (see noteReject).
		if p.cancelled == nil {
			p.cancelled = make(map[picker.Block]time.Time)
		}
		for b, at := range p.cancelled {
			if now.Sub(at) > time.Minute {
				delete(p.cancelled, b)
			}
		}
		for b := range p.reqs {
			if t.pick.Priority(b.Piece) < readerPriority {
				begin, length := t.pick.BlockRange(b)
				p.conn.Cancel(b.Piece, begin, length)
				t.pick.Cancel(p.id, b)
				delete(p.reqs, b)
				p.cancelled[b] = now
			}
		}
	}
}

// Reader reads one file of a torrent as it downloads. It implements
// io.ReadSeekCloser and io.ReaderAt; Read and Seek share a position and
// must not be called concurrently with each other, while ReadAt may be
// called from several goroutines. See NewReader.
type Reader struct {
	t      *Torrent
	file   int
	start  int64 // the file's offset in the torrent
	length int64
	plen   int64

	closed atomic.Bool
	done   chan struct{} // closed by Close: blocked reads return

	mu        sync.Mutex // guards the fields below; held by Read throughout
	pos       int64
	readahead int64
	ctx       context.Context
	win       readWindow
}

// NewReader returns a Reader of file index (as in Files). Reads block until
// the data they return is verified, so reading a file while it downloads
// streams it. Close the Reader to drop its read-ahead window.
func (t *Torrent) NewReader(index int) (*Reader, error) {
	m := t.meta.Load()
	if m == nil {
		return nil, errors.New("bt: no metadata yet")
	}
	if index < 0 || index >= len(m.layout.Files) {
		return nil, fmt.Errorf("bt: file index %d out of range [0,%d)", index, len(m.layout.Files))
	}
	fe := m.layout.Files[index]
	return &Reader{t: t, file: index, start: fe.Offset, length: fe.Length, plen: m.layout.PieceLength,
		readahead: DefaultReadahead, ctx: context.Background(), done: make(chan struct{})}, nil
}

// Size returns the length of the file.
func (r *Reader) Size() int64 { return r.length }

// SetReadahead sets how many bytes ahead of the position are fetched first
// (at least one piece is). Default DefaultReadahead.
func (r *Reader) SetReadahead(n int64) {
	r.mu.Lock()
	r.readahead = max(n, 0)
	r.mu.Unlock()
}

// SetContext sets the context that bounds Read's waiting for data (and
// ReadAt's, unless ReadAtContext is used). Default context.Background().
func (r *Reader) SetContext(ctx context.Context) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
}

// Read reads up to len(p) bytes at the position. It blocks until at least
// one byte is verified, and returns only verified bytes.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return 0, ErrReaderClosed
	}
	if r.pos >= r.length {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.t.readVerified(r.ctx, r.done, &r.win, p, r.start+r.pos, r.start+r.length, r.readahead)
	r.pos += int64(n)
	if r.closed.Load() {
		r.t.dropWindow(&r.win) // Close may have run before this read set it
	}
	return n, err
}

// Seek sets the position for the next Read (io.Seeker). Seeking does not
// wait for anything; the next Read moves the read-ahead window.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return 0, ErrReaderClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.length
	default:
		return 0, fmt.Errorf("bt: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("bt: seek to negative offset %d", offset)
	}
	r.pos = offset
	return offset, nil
}

// ReadAt reads len(p) bytes at offset off in the file (io.ReaderAt),
// waiting for the pieces it covers, which are fetched first meanwhile.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	return r.readAt(ctx, p, off)
}

// ReadAtContext is ReadAt bounded by ctx.
func (r *Reader) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	return r.readAt(ctx, p, off)
}

func (r *Reader) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, ErrReaderClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("bt: read at negative offset %d", off)
	}
	if off >= r.length {
		return 0, io.EOF
	}
	var w readWindow
	defer r.t.dropWindow(&w)
	want := min(int64(len(p)), r.length-off)
	done := 0
	for int64(done) < want {
		n, err := r.t.readVerified(ctx, r.done, &w, p[done:want], r.start+off+int64(done), r.start+r.length, want-int64(done))
		done += n
		if err != nil {
			return done, err
		}
	}
	if int64(done) < int64(len(p)) {
		return done, io.EOF
	}
	return done, nil
}

// Close drops the Reader's read-ahead window; reads blocked meanwhile
// return ErrReaderClosed.
func (r *Reader) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	close(r.done)
	r.t.dropWindow(&r.win)
	return nil
}

// dropWindow removes w on the loop, if it is there. Unlike setWindow it
// touches none of the fields of w, so Close may call it while a read runs.
func (t *Torrent) dropWindow(w *readWindow) {
	t.call(func() {
		if _, ok := t.rd.windows[w]; !ok {
			return
		}
		delete(t.rd.windows, w)
		if t.pick != nil {
			t.applyPriorities()
		}
	})
}

// readVerified reads into p the verified bytes at torrent offset off,
// stopping at limit (the end of the file) and at the first piece not yet
// verified. It first moves window w to cover readahead bytes from off, then
// waits until the piece under off is verified. It returns at least one byte
// unless it fails.
func (t *Torrent) readVerified(ctx context.Context, stop <-chan struct{}, w *readWindow, p []byte, off, limit, readahead int64) (int, error) {
	m := t.meta.Load()
	plen := m.layout.PieceLength
	first := int(off / plen)
	end := max(int((min(off+max(readahead, 1), limit)-1)/plen)+1, first+1)
	if h := t.have.Load(); h != nil && hasAll(h, first, end) {
		end = first // nothing to fetch: no window, no re-planning
	}
	if err := t.setWindow(w, first, end); err != nil {
		return 0, err
	}
	if err := t.waitPiece(ctx, stop, first); err != nil {
		return 0, err
	}
	// Take every verified piece from off on, as far as p goes.
	n := min(int64(len(p)), limit-off)
	h := t.have.Load()
	avail := int64(0)
	for i := first; avail < n; i++ {
		if i >= h.Len() || !h.Has(i) {
			break
		}
		avail = int64(i+1)*plen - off
	}
	n = min(n, avail)
	ms := t.meta.Load()
	if ms.store == nil {
		return 0, t.stoppedErr()
	}
	k, err := ms.store.ReadAt(p[:n], off)
	if err != nil && !(errors.Is(err, io.EOF) && int64(k) == n) {
		bad := int((off + int64(k)) / plen)
		t.post(func() { t.readFailed(ms, bad, err) }) // faults.go
		return k, fmt.Errorf("bt: reading %s: %w", t.Name(), err)
	}
	return k, nil
}

// waitPiece blocks until piece i is verified and the files are open, the
// torrent fails or closes, or ctx ends.
func (t *Torrent) waitPiece(ctx context.Context, stop <-chan struct{}, i int) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		wake := t.rd.waitChan()
		if h := t.have.Load(); h != nil && h.Has(i) {
			if m := t.meta.Load(); m != nil && m.store != nil {
				return nil
			}
		}
		var err error
		if e := t.call(func() { err = t.err }); e != nil {
			return e
		}
		if err != nil {
			return err
		}
		if timer == nil {
			timer = time.NewTimer(readerRecheck)
		} else {
			timer.Reset(readerRecheck)
		}
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrReaderClosed
		case <-t.done:
			return ErrClosed
		}
	}
}

// stoppedErr is the error of a read that found the files closed.
func (t *Torrent) stoppedErr() error {
	var err error
	if e := t.call(func() { err = t.err }); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	return errors.New("bt: torrent stopped")
}

// hasAll reports whether every piece in [first, end) is had.
func hasAll(h *bitfield.Bitfield, first, end int) bool {
	for i := first; i < end; i++ {
		if i >= h.Len() || !h.Has(i) {
			return false
		}
	}
	return true
}
