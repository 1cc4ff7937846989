package bt

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	xrate "golang.org/x/time/rate"

	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/wire"
)

// Rate and connection limits. Rates are payload bytes per second, limited
// by token buckets (golang.org/x/time/rate) at two levels: the client's
// (Config.MaxDownloadRate, MaxUploadRate; Client.SetRateLimits) shared by
// all its torrents, and each torrent's own (TorrentOptions; Torrent.
// SetRateLimits). A byte must pass both.
//
//   - Upload is limited per block: a peer's request waits in a queue of
//     its own, served by one goroutine per peer that takes tokens before it
//     reads the block from disk and hands it to the connection. The peer's
//     other messages are read meanwhile.
//   - Download is limited by pacing requests: a block is requested only
//     once the tokens for it are in hand (the loop is woken when enough have
//     accumulated), so peers never send faster than the limit and nothing
//     blocks; the request pipeline is also cut to about RequestQueueTime at
//     the limit.
//
// Connection limits: Config.MaxConns over the client, and
// Config.MaxConnsPerTorrent or TorrentOptions.MaxConns per torrent
// (Torrent.SetMaxConns).

// limit is one token bucket; the zero value is unlimited.
type limit struct {
	mu sync.Mutex // serialises set
	l  atomic.Pointer[xrate.Limiter]
}

// burstFor returns the bucket size for a rate: a tenth of a second of it,
// and at least two of our blocks, so that a request is always affordable.
// (A peer may ask us for longer blocks, up to wire.MaxBlockLength: the
// upload side pays for those in burst-sized parts.) The bucket starts
// full, so a transfer's first second may exceed the rate by one burst.
func burstFor(bps int64) int {
	return int(min(max(bps/10, 2*picker.BlockSize), 1<<30))
}

// set changes the rate; bps <= 0 removes the limit.
func (l *limit) set(bps int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bps <= 0 {
		l.l.Store(nil)
		return
	}
	if cur := l.l.Load(); cur != nil {
		cur.SetLimit(xrate.Limit(bps))
		cur.SetBurst(burstFor(bps))
		return
	}
	l.l.Store(xrate.NewLimiter(xrate.Limit(bps), burstFor(bps)))
}

// get returns the current rate (0: unlimited).
func (l *limit) get() int64 {
	if x := l.l.Load(); x != nil {
		return int64(x.Limit())
	}
	return 0
}

// clientLimits are a client's shared rate limits.
type clientLimits struct {
	down, up limit
}

func (cl *clientLimits) init(cfg *Config) {
	cl.down.set(cfg.MaxDownloadRate)
	cl.up.set(cfg.MaxUploadRate)
}

// torrentLimits are a torrent's own limits and its upload queues' state.
type torrentLimits struct {
	down, up limit
	maxConns atomic.Int32 // 0: Config.MaxConnsPerTorrent
	wg       sync.WaitGroup
	waking   bool // a fill is scheduled for when download tokens come (loop)
}

func (tl *torrentLimits) init(o *TorrentOptions) {
	tl.down.set(o.MaxDownloadRate)
	tl.up.set(o.MaxUploadRate)
	tl.maxConns.Store(int32(max(o.MaxConns, 0)))
}

// SetRateLimits sets the client's download and upload rate limits in
// bytes per second, shared by all torrents; 0 means unlimited. It takes
// effect at once.
func (c *Client) SetRateLimits(down, up int64) {
	c.lim.down.set(down)
	c.lim.up.set(up)
}

// RateLimits returns the client's download and upload limits (0:
// unlimited).
func (c *Client) RateLimits() (down, up int64) { return c.lim.down.get(), c.lim.up.get() }

// SetRateLimits sets the torrent's own download and upload rate limits in
// bytes per second; 0 means unlimited (the client's limits still apply).
// It takes effect at once.
func (t *Torrent) SetRateLimits(down, up int64) {
	t.lim.down.set(down)
	t.lim.up.set(up)
}

// RateLimits returns the torrent's own download and upload limits (0:
// unlimited).
func (t *Torrent) RateLimits() (down, up int64) { return t.lim.down.get(), t.lim.up.get() }

// SetMaxConns bounds the torrent's connections; 0 means
// Config.MaxConnsPerTorrent. Connections over a lowered bound are not
// closed, but no new ones are made or accepted until below it.
func (t *Torrent) SetMaxConns(n int) {
	t.lim.maxConns.Store(int32(max(n, 0)))
	t.post(t.dialMore)
}

// maxConns is the torrent's connection bound.
func (t *Torrent) maxConns() int {
	if n := t.lim.maxConns.Load(); n > 0 {
		return int(n)
	}
	return t.cfg.MaxConnsPerTorrent
}

// limitedRate returns the tightest of a torrent's and the client's limits
// (0: none).
func limitedRate(a, b *limit) int64 {
	x, y := a.get(), b.get()
	switch {
	case x == 0:
		return y
	case y == 0:
		return x
	}
	return min(x, y)
}

// capPipeline bounds a peer's request pipeline under a download limit to
// about RequestQueueTime at that rate (at least two blocks).
func (t *Torrent) capPipeline(n int) int {
	r := limitedRate(&t.lim.down, &t.client.lim.down)
	if r == 0 {
		return n
	}
	return min(n, max(int(float64(r)*t.cfg.RequestQueueTime.Seconds()/picker.BlockSize), 2))
}

// take waits until n bytes may pass limits a and b, or until one of the
// channels closes (then it reports false and returns the tokens).
func take(n int, a, b *limit, stop1, stop2 <-chan struct{}) bool {
	la, lb := a.l.Load(), b.l.Load()
	if la == nil && lb == nil {
		return true
	}
	for n > 0 {
		chunk := n
		now := time.Now()
		var delay time.Duration
		var rs []*xrate.Reservation
		for _, l := range []*xrate.Limiter{la, lb} {
			if l == nil {
				continue
			}
			chunk = min(chunk, l.Burst())
		}
		for _, l := range []*xrate.Limiter{la, lb} {
			if l == nil {
				continue
			}
			r := l.ReserveN(now, chunk)
			if !r.OK() {
				continue // the burst shrank meanwhile: let it pass
			}
			rs = append(rs, r)
			delay = max(delay, r.DelayFrom(now))
		}
		if delay > 0 {
			timer := time.NewTimer(delay)
			select {
			case <-timer.C:
			case <-stop1:
				timer.Stop()
				for _, r := range rs {
					r.Cancel()
				}
				return false
			case <-stop2:
				timer.Stop()
				for _, r := range rs {
					r.Cancel()
				}
				return false
			}
		}
		n -= chunk
	}
	return true
}

// affordDown bounds to n the blocks a fill may request under the download
// limits: as many as the tokens in hand pay for. With none, it arranges for
// the peers to be filled again once a batch is paid for, and returns 0. It
// runs on the loop.
func (t *Torrent) affordDown(n int) int {
	a, b := t.lim.down.l.Load(), t.client.lim.down.l.Load()
	if a == nil && b == nil {
		return n
	}
	now := time.Now()
	tokens := math.Inf(1)
	for _, l := range []*xrate.Limiter{a, b} {
		if l != nil {
			tokens = min(tokens, l.TokensAt(now))
		}
	}
	if k := int(tokens / picker.BlockSize); k > 0 {
		return min(n, k)
	}
	t.wakeForTokens(now, tokens, a, b)
	return 0
}

// spendDown takes the tokens of the blocks just requested. The limiters
// may go into debt (a client's limiter is shared by its torrents): later
// fills wait until it is paid.
func (t *Torrent) spendDown(blocks []picker.Block) {
	a, b := t.lim.down.l.Load(), t.client.lim.down.l.Load()
	if a == nil && b == nil || len(blocks) == 0 {
		return
	}
	n := 0
	for _, bl := range blocks {
		_, l := t.pick.BlockRange(bl)
		n += l
	}
	now := time.Now()
	for _, l := range []*xrate.Limiter{a, b} {
		if l != nil {
			l.ReserveN(now, min(n, l.Burst()))
		}
	}
}

// downBatch is how much rate a wake-up waits to accumulate before filling
// the pipelines again, so that high limits do not wake the loop per block.
const downBatch = 20 * time.Millisecond

// wakeForTokens schedules one fill of every peer's pipeline for when the
// download limits have paid for a batch of blocks.
func (t *Torrent) wakeForTokens(now time.Time, tokens float64, limiters ...*xrate.Limiter) {
	if t.lim.waking {
		return
	}
	var wait time.Duration
	for _, l := range limiters {
		if l == nil {
			continue
		}
		r := float64(l.Limit())
		need := max(picker.BlockSize, min(r*downBatch.Seconds(), float64(l.Burst()))) - tokens
		wait = max(wait, time.Duration(need/r*float64(time.Second)))
	}
	t.lim.waking = true
	time.AfterFunc(max(wait, time.Millisecond), func() {
		t.post(func() {
			t.lim.waking = false
			for p := range t.peers {
				t.fillRequests(p)
			}
		})
	})
}

// uploadLimited reports whether uploads go through the per-peer queues.
func (t *Torrent) uploadLimited() bool {
	return t.lim.up.l.Load() != nil || t.client.lim.up.l.Load() != nil
}

// uploadQueue holds a peer's requests waiting for upload tokens.
type uploadQueue struct {
	mu      sync.Mutex
	reqs    []wire.Request
	running bool
}

// queueUpload defers a request the engine is about to serve when an upload
// limit applies, and reports whether it did; the peer's upload goroutine
// serves it once tokens allow. It runs on the peer's read goroutine.
func (t *Torrent) queueUpload(p *peer, index, begin, length int) bool {
	if !t.uploadLimited() {
		return false
	}
	q := &p.upq
	r := wire.Request{Index: index, Begin: begin, Length: length}
	q.mu.Lock()
	// A request cancelled and made again takes its new place in the queue.
	if i := slices.Index(q.reqs, r); i >= 0 {
		q.reqs = slices.Delete(q.reqs, i, i+1)
	}
	q.reqs = append(q.reqs, r)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		t.lim.wg.Add(1)
		go t.uploadLoop(p)
	}
	return true
}

// uploadLoop serves a peer's queued requests at the limited rate, and ends
// when the queue is empty or the connection closes.
func (t *Torrent) uploadLoop(p *peer) {
	defer t.lim.wg.Done()
	q := &p.upq
	for {
		q.mu.Lock()
		if len(q.reqs) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		r := q.reqs[0]
		q.reqs = q.reqs[1:]
		q.mu.Unlock()
		if !stillRequested(p.conn, r) {
			continue // cancelled, or discarded by a choke
		}
		if !take(r.Length, &t.lim.up, &t.client.lim.up, p.conn.Done(), t.quit) {
			q.mu.Lock()
			q.reqs, q.running = nil, false
			q.mu.Unlock()
			return
		}
		t.sendBlock(p, r.Index, r.Begin, r.Length)
	}
}

// stillRequested reports whether the peer still waits for r.
func stillRequested(c *wire.Conn, r wire.Request) bool {
	for _, x := range c.PeerRequests() {
		if x == r {
			return true
		}
	}
	return false
}
