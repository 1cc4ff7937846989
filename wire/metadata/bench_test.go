package metadata

import (
	"crypto/sha1"
	"fmt"
	"testing"
)

// BenchmarkFetch fetches 1 MiB of metadata (64 pieces) from four in-memory
// peers through the Fetcher's scheduling, assembly and hash check.
func BenchmarkFetch(b *testing.B) {
	info := testInfo(1 << 20)
	ih := sha1.Sum(info)
	b.SetBytes(int64(len(info)))
	b.ReportAllocs()
	for b.Loop() {
		s := &swarm{t: b, clock: newManualClock()}
		s.f = NewFetcher(ih, FetcherConfig{Clock: s.clock})
		for i := range 4 {
			s.join(fmt.Sprint(i), info, int64(len(info)), honest)
		}
		s.pump()
		if s.f.Metadata() == nil {
			b.Fatal("not fetched")
		}
		s.f.Close()
	}
}

func BenchmarkParseData(b *testing.B) {
	payload, _ := Message{Type: MsgData, Piece: 3, TotalSize: 1 << 20, Data: make([]byte, PieceSize)}.Marshal()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(payload); err != nil {
			b.Fatal(err)
		}
	}
}
