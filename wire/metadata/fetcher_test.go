package metadata

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testInfo returns a bencoded dictionary of exactly size bytes (size ≥ 30).
func testInfo(size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), 1))
	n := size - len("d4:name4:test6:pieces:e")
	for n+len(fmt.Sprint(n))+len("d4:name4:test6:pieces:e") > size {
		n--
	}
	pad := make([]byte, n)
	for i := range pad {
		pad[i] = byte('a' + r.IntN(26))
	}
	return fmt.Appendf(nil, "d4:name4:test6:pieces%d:%se", len(pad), pad)
}

// behaviour decides how a fake peer answers one request: it returns the
// payload to send back, or nil to stay silent.
type behaviour func(info []byte, piece int) []byte

func honest(info []byte, piece int) []byte {
	return dataMsg(info, piece, int64(len(info)))
}

func dataMsg(info []byte, piece int, total int64) []byte {
	start := piece * PieceSize
	end := min(start+PieceSize, len(info))
	b, _ := Message{Type: MsgData, Piece: piece, TotalSize: total, Data: info[start:end]}.Marshal()
	return b
}

func corrupt(info []byte, piece int) []byte {
	b := honest(info, piece)
	if piece == 0 {
		b[len(b)-1] ^= 0xff
	}
	return b
}

func silent([]byte, int) []byte { return nil }

func rejecting(_ []byte, piece int) []byte {
	b, _ := Message{Type: MsgReject, Piece: piece}.Marshal()
	return b
}

// swarm connects fake peers to one Fetcher; requests are queued and answered
// by pump, so the test controls the order of events.
type swarm struct {
	t     testing.TB
	clock *manualClock
	f     *Fetcher

	mu    sync.Mutex
	queue []queued
}

type queued struct {
	p     *fakePeer
	piece int
}

type fakePeer struct {
	key      string
	info     []byte // what it serves
	ext      *Extension
	answer   behaviour
	requests []int
	err      error // why the Fetcher had its connection closed
}

func newSwarm(t *testing.T, infoHash [20]byte, cfg FetcherConfig) *swarm {
	s := &swarm{t: t, clock: newManualClock()}
	cfg.Clock = s.clock
	s.f = NewFetcher(infoHash, cfg)
	t.Cleanup(s.f.Close)
	return s
}

// join connects a fake peer announcing size and answering with b.
func (s *swarm) join(key string, info []byte, size int64, b behaviour) *fakePeer {
	p := &fakePeer{key: key, info: info, answer: b, ext: New(Config{Fetcher: s.f})}
	p.ext.handshake(key, size, true, func(payload []byte) error {
		m, err := ParseMessage(payload)
		if err != nil || m.Type != MsgRequest {
			s.t.Errorf("fetcher sent %q: %v", payload, err)
			return nil
		}
		s.mu.Lock()
		p.requests = append(p.requests, m.Piece)
		s.queue = append(s.queue, queued{p, m.Piece})
		s.mu.Unlock()
		return nil
	})
	return p
}

// pump answers queued requests until none are left.
func (s *swarm) pump() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		q := s.queue[0]
		s.queue = s.queue[1:]
		closed := q.p.err != nil
		s.mu.Unlock()
		if closed {
			continue
		}
		if reply := q.p.answer(q.p.info, q.piece); reply != nil {
			if err := q.p.ext.handle(reply, func([]byte) error { return nil }); err != nil {
				// The connection closes, as package wire does.
				s.mu.Lock()
				q.p.err = err
				s.mu.Unlock()
				q.p.ext.close()
			}
		}
	}
}

func (s *swarm) requests(p *fakePeer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(p.requests)
}

func (s *swarm) wantDone(info []byte) {
	s.t.Helper()
	select {
	case <-s.f.Done():
	default:
		have, total := s.f.Progress()
		s.t.Fatalf("fetch not done: %d of %d pieces", have, total)
	}
	got, err := s.f.Wait(context.Background())
	if err != nil || !bytes.Equal(got, info) {
		s.t.Fatalf("Wait = %d bytes, %v; want the %d bytes of info", len(got), err, len(info))
	}
}

func TestFetchFromOnePeer(t *testing.T) {
	info := testInfo(5*PieceSize + 100)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	p := s.join("a", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if n := s.requests(p); n != 6 {
		t.Errorf("%d requests for 6 pieces", n)
	}
}

func TestFetchSpreadsOverPeers(t *testing.T) {
	info := testInfo(20 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 2})
	var peers []*fakePeer
	for i := range 4 {
		peers = append(peers, s.join(fmt.Sprint(i), info, int64(len(info)), honest))
	}
	s.pump()
	s.wantDone(info)
	total := 0
	for _, p := range peers {
		if s.requests(p) == 0 {
			t.Errorf("peer %s was never asked", p.key)
		}
		total += s.requests(p)
	}
	// Only the last pieces, all asked already, are asked of other peers.
	if total < 20 || total >= 2*20 {
		t.Errorf("%d requests for 20 pieces", total)
	}
}

func TestFetchSmallMetadata(t *testing.T) {
	info := []byte("d4:name1:xe")
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	s.join("a", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
}

func TestBadSizesNotAsked(t *testing.T) {
	info := testInfo(3 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxSize: 1 << 20})
	var bad []*fakePeer
	for i, size := range []int64{-1, 0, 1<<20 + 1, 1 << 62, -1 << 63} {
		bad = append(bad, s.join(fmt.Sprint("bad", i), info, size, honest))
	}
	s.pump()
	for _, p := range bad {
		if s.requests(p) != 0 {
			t.Errorf("peer %s with a bad metadata_size was asked", p.key)
		}
	}
	if have, total := s.f.Progress(); have != 0 || total != 0 {
		t.Errorf("progress %d/%d, want 0/0", have, total)
	}
	s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
}

func TestLiarAloneIsBanned(t *testing.T) {
	info := testInfo(3 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	liar := s.join("liar", info, int64(len(info)), corrupt)
	s.pump()
	if s.requests(liar) != 3 || !errors.Is(liar.err, ErrBadMetadata) {
		t.Fatalf("liar asked %d times, its connection closed with %v", s.requests(liar), liar.err)
	}
	// Banned: no more requests, and not even on a new connection.
	again := s.join("liar", info, int64(len(info)), honest)
	s.pump()
	if s.requests(liar) != 3 || s.requests(again) != 0 {
		t.Errorf("banned peer asked again: %d, %d requests", s.requests(liar), s.requests(again))
	}
	good := s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if s.requests(good) != 3 {
		t.Errorf("good peer asked %d times", s.requests(good))
	}
}

func TestLiarAmongHonestIsFound(t *testing.T) {
	info := testInfo(8 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 1})
	// The liar corrupts piece 0, which it is asked first.
	liar := s.join("liar", info, int64(len(info)), corrupt)
	s.join("h1", info, int64(len(info)), honest)
	s.join("h2", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if !s.banned("liar") {
		t.Errorf("liar not banned after %d requests", s.requests(liar))
	}
	for _, k := range []string{"h1", "h2"} {
		if s.banned(k) {
			t.Errorf("honest peer %s banned", k)
		}
	}
}

func (s *swarm) banned(key string) bool {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	_, ok := s.f.banned[key]
	return ok
}

func TestLiarFoundInSingleMode(t *testing.T) {
	info := testInfo(4 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 1})
	liar := s.join("liar", info, int64(len(info)), corrupt)
	s.join("h1", info, int64(len(info)), honest)
	s.pump()
	// Both supplied pieces of metadata that failed; each is asked alone.
	s.wantDone(info)
	if !s.banned("liar") || s.banned("h1") {
		t.Errorf("banned: liar %v, honest %v; want only the liar", s.banned("liar"), s.banned("h1"))
	}
	if !errors.Is(liar.err, ErrBadMetadata) {
		t.Errorf("liar's connection closed with %v", liar.err)
	}
}

func TestSizeChangingBetweenPeers(t *testing.T) {
	info := testInfo(3 * PieceSize)
	fake := testInfo(5 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	// The first peer announces (and serves) other metadata of another size.
	first := s.join("other", fake, int64(len(fake)), honest)
	good := s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if s.requests(first) != 5 || s.requests(good) != 3 {
		t.Errorf("requests: %d to the wrong-size peer (want 5), %d to the good one (want 3)", s.requests(first), s.requests(good))
	}
}

func TestTotalSizeMismatchInData(t *testing.T) {
	info := testInfo(3 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 1})
	liar := s.join("liar", info, int64(len(info)), func(info []byte, piece int) []byte {
		return dataMsg(info, piece, int64(len(info))+1)
	})
	s.pump()
	if s.requests(liar) != 1 || !errors.Is(liar.err, ErrBadData) {
		t.Errorf("peer changing total_size asked %d times, closed with %v; want 1, ErrBadData", s.requests(liar), liar.err)
	}
	s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
}

func TestWrongPieceLength(t *testing.T) {
	info := testInfo(2*PieceSize + 10)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	short := s.join("short", info, int64(len(info)), func(info []byte, piece int) []byte {
		b := honest(info, piece)
		if piece == 2 {
			return append(b, 'x') // final piece one byte too long
		}
		return b
	})
	s.pump()
	if have, _ := s.f.Progress(); have != 2 {
		t.Errorf("have %d pieces, want 2 (the final one refused)", have)
	}
	s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if s.requests(short) != 3 || !errors.Is(short.err, ErrBadData) {
		t.Errorf("peer with a wrong final piece asked %d times, closed with %v; want 3, ErrBadData", s.requests(short), short.err)
	}
}

func TestUnsolicitedDataIgnored(t *testing.T) {
	info := testInfo(3 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 1})
	p := s.join("a", info, int64(len(info)), silent)
	// Data for pieces never asked is ignored; for pieces beyond the end,
	// it closes the connection.
	for _, piece := range []int{1, 2, 3, 1000} {
		if err := p.ext.handle(dataMsg(info, min(piece, 2), int64(len(info)))[0:0:0], nil); err == nil {
			t.Fatal("empty payload accepted")
		}
		b, _ := Message{Type: MsgData, Piece: piece, TotalSize: int64(len(info)), Data: []byte("zz")}.Marshal()
		if err := p.ext.handle(b, nil); (piece < 3) != (err == nil) || err != nil && !errors.Is(err, ErrBadData) {
			t.Fatalf("data for piece %d: %v", piece, err)
		}
	}
	if have, _ := s.f.Progress(); have != 0 {
		t.Errorf("unsolicited data stored: have %d", have)
	}
}

func TestEndlessRejects(t *testing.T) {
	info := testInfo(10 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	p := s.join("no", info, int64(len(info)), rejecting)
	s.pump()
	s.clock.Advance(time.Hour)
	s.pump()
	if n := s.requests(p); n > DefaultMaxOutstanding+DefaultMaxRejects {
		t.Errorf("rejecting peer asked %d times", n)
	}
	s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
}

// TestSilentPeerDelaysNothing: pieces already asked of a silent peer are
// asked of the next peer at once.
func TestSilentPeerDelaysNothing(t *testing.T) {
	info := testInfo(4 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	slow := s.join("slow", info, int64(len(info)), silent)
	good := s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
	if s.requests(slow) != 4 || s.requests(good) != 4 {
		t.Errorf("requests %d, %d; want 4 to each", s.requests(slow), s.requests(good))
	}
}

// TestTimeoutMovesToAnotherPeer: with each piece asked of three silent
// peers, a fourth is asked when the requests time out: after
// RequestTimeout while nobody has answered.
func TestTimeoutMovesToAnotherPeer(t *testing.T) {
	info := testInfo(4 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	for i := range maxRedundancy {
		s.join(fmt.Sprint("slow", i), info, int64(len(info)), silent)
	}
	good := s.join("good", info, int64(len(info)), honest)
	s.pump()
	if s.requests(good) != 0 {
		t.Fatalf("good peer asked %d times; want 0 while three others are asked", s.requests(good))
	}
	s.clock.Advance(DefaultRequestTimeout - time.Millisecond)
	s.pump()
	if s.requests(good) != 0 {
		t.Fatal("retried before the timeout")
	}
	s.clock.Advance(time.Millisecond)
	s.pump()
	s.wantDone(info)
	if s.requests(good) != 4 {
		t.Errorf("good peer asked %d times, want 4", s.requests(good))
	}
}

// TestTimeoutAdapts: once a peer has answered quickly, a silent peer's
// requests time out after four times that answer, not after
// RequestTimeout, within MinRequestTimeout.
func TestTimeoutAdapts(t *testing.T) {
	info := testInfo(8 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{MaxOutstanding: 1})
	// A fast peer answers piece 0 after 100 ms, then goes quiet.
	fast := s.join("fast", info, int64(len(info)), func(info []byte, piece int) []byte {
		if piece == 0 {
			return honest(info, piece)
		}
		return nil
	})
	s.clock.Advance(100 * time.Millisecond)
	s.pump()
	if have, _ := s.f.Progress(); have != 1 || s.requests(fast) != 2 {
		t.Fatalf("have %d pieces after %d requests", have, s.requests(fast))
	}
	s.f.mu.Lock()
	timeout := s.f.timeoutLocked()
	s.f.mu.Unlock()
	if timeout != DefaultMinRequestTimeout {
		t.Fatalf("time-out %v after a 100 ms answer, want %v (4×100 ms, at least the minimum)", timeout, DefaultMinRequestTimeout)
	}
	s.clock.Advance(DefaultMinRequestTimeout)
	s.pump()
	if n := s.requests(fast); n != 3 {
		t.Fatalf("fast peer asked %d times after its second request timed out, want 3", n)
	}
}

// TestLateAnswerTaken: the answer to a request that timed out is still
// used.
func TestLateAnswerTaken(t *testing.T) {
	info := testInfo(PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	slow := s.join("slow", info, int64(len(info)), silent)
	s.clock.Advance(DefaultRequestTimeout)
	s.pump()
	if err := slow.ext.handle(honest(info, 0), nil); err != nil {
		t.Fatal(err)
	}
	s.wantDone(info)
}

// TestTimeoutRetriesSamePeer: a silent peer alone is asked again after
// each time-out, no faster, and a good peer joining finishes the fetch.
func TestTimeoutRetriesSamePeer(t *testing.T) {
	info := testInfo(PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	slow := s.join("slow", info, int64(len(info)), silent)
	for range 10 {
		s.clock.Advance(DefaultRequestTimeout)
		s.pump()
	}
	if n := s.requests(slow); n > 11 {
		t.Errorf("silent peer asked %d times in 10 time-outs", n)
	}
	s.join("good", info, int64(len(info)), honest)
	s.pump()
	s.wantDone(info)
}

func TestPeerLeavingFreesItsPieces(t *testing.T) {
	info := testInfo(4 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	gone := s.join("gone", info, int64(len(info)), silent)
	good := s.join("good", info, int64(len(info)), honest)
	gone.ext.close()
	s.pump()
	s.wantDone(info)
	if s.requests(good) != 4 {
		t.Errorf("good peer asked %d times", s.requests(good))
	}
}

func TestCloseAndContext(t *testing.T) {
	s := newSwarm(t, [20]byte{1}, FetcherConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: %v", err)
	}
	s.f.Close()
	s.f.Close()
	if _, err := s.f.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
	p := s.join("late", []byte("x"), 1, honest)
	s.pump()
	if s.requests(p) != 0 {
		t.Error("closed fetcher asked a peer")
	}
}

func TestServeAfterFetch(t *testing.T) {
	info := testInfo(2 * PieceSize)
	s := newSwarm(t, sha1.Sum(info), FetcherConfig{})
	src := s.join("src", info, int64(len(info)), honest)
	if src.ext.metadataSize() != 0 {
		t.Error("metadata_size announced before the fetch")
	}
	s.pump()
	s.wantDone(info)
	if src.ext.metadataSize() != int64(len(info)) {
		t.Errorf("metadata_size %d after the fetch", src.ext.metadataSize())
	}
	got := serveAll(t, src.ext, 2)
	if !bytes.Equal(got, info) {
		t.Error("served metadata differs")
	}
}
