package pex

import "testing"

func BenchmarkParseMessage(b *testing.B) {
	var m Message
	for i := range 50 {
		m.Added = append(m.Added, Peer{Addr: peerN(i), Flags: FlagSeed})
		m.Dropped = append(m.Dropped, peerN(1000+i))
	}
	payload, err := m.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextMessage measures building a message from 1000 local peers,
// 50 of them new.
func BenchmarkNextMessage(b *testing.B) {
	e := New(Config{})
	for i := range 1000 {
		e.local[peerN(i)] = 0
		if i >= 50 {
			e.sent[peerN(i)] = struct{}{}
		}
	}
	e.sentAny = true
	b.ReportAllocs()
	for b.Loop() {
		e.mu.Lock()
		m := e.nextMessageLocked()
		for _, p := range m.Added {
			delete(e.sent, p.Addr)
		}
		e.mu.Unlock()
		if _, err := m.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
