package krpc

import (
	"net/netip"
	"testing"
)

func benchResponse() []byte {
	r := Return{Token: []byte("12345678")}
	for i := range 8 {
		r.Nodes = append(r.Nodes, NodeInfo{ID: [20]byte{byte(i)}, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 6881)})
	}
	return AppendResponse(nil, []byte("aa"), &r, netip.MustParseAddrPort("127.0.0.1:6881"))
}

// BenchmarkParseResponse decodes a get_peers response with 8 nodes.
func BenchmarkParseResponse(b *testing.B) {
	msg := benchResponse()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendResponse encodes the same response.
func BenchmarkAppendResponse(b *testing.B) {
	m, _ := Parse(benchResponse())
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], m.T, &m.R, m.IP)
	}
}
