package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/tracker/internal/trackerwire"
)

// FuzzServerRequest sends arbitrary bytes to the server as a UDP datagram
// and as the query of an HTTP announce and scrape: no panic, UDP replies
// within one small datagram, HTTP replies always a bencoded dictionary.
func FuzzServerRequest(f *testing.F) {
	f.Add([]byte((&trackerwire.ConnectRequest{TransactionID: 1}).AppendBinary(nil)))
	f.Add([]byte((&trackerwire.AnnounceRequest{NumWant: -1, Port: 1, URLData: "/a"}).AppendBinary(nil)))
	f.Add([]byte((&trackerwire.ScrapeRequest{InfoHashes: make([][20]byte, 3)}).AppendBinary(nil)))
	f.Add([]byte("info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=-BT0001-abcdefghijkl&port=1&left=0&numwant=999999"))
	f.Add([]byte("info_hash=a&info_hash=b&compact=0"))
	s := New(Config{RequestsPerSecond: 1e9, Burst: 1 << 30})
	src := netip.MustParseAddrPort("192.0.2.1:1")
	f.Fuzz(func(t *testing.T, data []byte) {
		if reply := s.handleUDP(data, src); len(reply) > udpPayloadBudget {
			t.Fatalf("UDP reply of %d bytes", len(reply))
		}
		// A valid connection id lets announces and scrapes get past it.
		if len(data) >= 16 {
			id := s.connectionID(src.Addr(), s.now().Unix()/60)
			pkt := append([]byte(nil), data...)
			for i := range 8 {
				pkt[i] = byte(id >> (56 - 8*i))
			}
			if reply := s.handleUDP(pkt, src); len(reply) > udpPayloadBudget {
				t.Fatalf("UDP reply of %d bytes", len(reply))
			}
		}
		for _, path := range []string{"/announce", "/scrape"} {
			req := httptest.NewRequest("GET", "http://t.example"+path, nil)
			req.URL.RawQuery = string(data)
			req.RemoteAddr = "192.0.2.1:1"
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			var v map[string]any
			if err := bencode.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s?%q: reply %q: %v", path, data, rec.Body.Bytes(), err)
			}
		}
	})
}
