package metadata

import (
	"crypto/sha1"
	"errors"
	"testing"
	"time"
)

// FuzzParseMessage checks that any payload parses without panicking and that
// what parses re-encodes to a message that parses the same.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("d8:msg_typei0e5:piecei0ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei3eeabc"))
	f.Add([]byte("d8:msg_typei2e5:piecei5ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei0ee"))
	f.Add([]byte("d5:piecei0e8:msg_typei0ee"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := ParseMessage(payload)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
			}
			return
		}
		if m.Piece < 0 || len(m.Data) > PieceSize || (m.Type != MsgData && m.Data != nil) {
			t.Fatalf("parsed %+v", m)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseMessage(b)
		if err != nil || m2.Type != m.Type || m2.Piece != m.Piece || m2.TotalSize != m.TotalSize || string(m2.Data) != string(m.Data) {
			t.Fatalf("round trip of %+v: %+v, %v", m, m2, err)
		}
	})
}

// FuzzFetch feeds a Fetcher's peer arbitrary answers: no panic, no piece
// stored but ones asked for, nothing completed that fails the hash.
func FuzzFetch(f *testing.F) {
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei20000ee"), []byte("d8:msg_typei2e5:piecei1ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei1e10:total_sizei20000eexyz"), []byte("garbage"))
	info := testInfo(20000) // made once: generating it dominated each run
	sum := sha1.Sum(info)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		clock := newManualClock()
		fe := NewFetcher(sum, FetcherConfig{Clock: clock})
		defer fe.Close()
		ext := New(Config{Fetcher: fe})
		ext.handshake("peer", int64(len(info)), true, func([]byte) error { return nil })
		for _, p := range [][]byte{a, b, a, b} {
			ext.handle(p, func([]byte) error { return nil })
			clock.Advance(time.Second)
		}
		have, total := fe.Progress()
		if have > total || total != 2 {
			t.Fatalf("progress %d/%d", have, total)
		}
		if got := fe.Metadata(); got != nil && sha1.Sum(got) != sum {
			t.Fatal("completed with metadata that fails the hash")
		}
	})
}
