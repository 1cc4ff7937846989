package pex

import (
	"errors"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/compact"
)

// FuzzParseMessage checks that any payload parses without panicking, within
// the entry limits, into entries that are usable and survive a round trip.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("d5:added6:\x0a\x00\x00\x01\x1a\xe17:added.f1:\x02e"))
	f.Add([]byte("d6:added618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe18:dropped60:e"))
	f.Add([]byte("d7:dropped12:\x0a\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x00e"))
	f.Add([]byte("d5:added7:abcdefg7:added.fi3ee"))
	f.Add([]byte("le"))
	f.Add([]byte("d5:addedd1:xi1eee"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := ParseMessage(payload)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
			}
			return
		}
		if len(m.Added) > MaxParsedEntries || len(m.Dropped) > MaxParsedEntries {
			t.Fatalf("%d added, %d dropped", len(m.Added), len(m.Dropped))
		}
		for _, p := range m.Added {
			if !compact.Dialable(p.Addr) || p.Addr.Addr().Is4In6() {
				t.Fatalf("unusable address %v", p.Addr)
			}
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseMessage(b)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", b, err)
		}
		if len(m2.Added) != len(m.Added) || len(m2.Dropped) != len(m.Dropped) {
			t.Fatalf("round trip changed counts: %d/%d → %d/%d", len(m.Added), len(m.Dropped), len(m2.Added), len(m2.Dropped))
		}
	})
}

// FuzzHandle drives an Extension with arbitrary messages: no panic, and the
// remembered peers stay within the bound.
func FuzzHandle(f *testing.F) {
	f.Add([]byte("d5:added6:\x0a\x00\x00\x01\x1a\xe1e"), []byte("d7:dropped6:\x0a\x00\x00\x01\x1a\xe1e"))
	f.Add([]byte("d5:added12:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x01\x9c\x40e"), []byte("i0e"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		clock := newManualClock()
		e := New(Config{Clock: clock, MaxRemotePeers: 10})
		e.attach(ap("127.0.0.1:40000"), ap("127.0.0.1:6881"), nil, true, func([]byte) error { return nil })
		for _, p := range [][]byte{a, b, a} {
			e.handle(p)
			clock.Advance(time.Minute)
		}
		if n := len(e.Peers()); n > 10 {
			t.Fatalf("%d peers remembered, bound 10", n)
		}
	})
}
