package trackerwire

import (
	"bytes"
	"testing"

	"github.com/bt-go/bt/internal/compact"
)

// FuzzParseUDPPacket parses arbitrary datagrams as a client (both address
// families) and as a server would. No panic; whatever parses re-encodes to
// the bytes it came from (less a request's unknown trailing options).
func FuzzParseUDPPacket(f *testing.F) {
	seeds := [][]byte{
		(&ConnectRequest{TransactionID: 7}).AppendBinary(nil),
		(&AnnounceRequest{ConnectionID: 1, TransactionID: 2, Left: 5, Event: EventStarted, NumWant: -1, Port: 6881, URLData: "/announce?k=v"}).AppendBinary(nil),
		(&ScrapeRequest{ConnectionID: 1, TransactionID: 3, InfoHashes: make([][20]byte, 2)}).AppendBinary(nil),
		(&ConnectResponse{TransactionID: 7, ConnectionID: 99}).AppendBinary(nil),
		{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 7, 8, 0, 0, 0, 1, 0, 0, 0, 2, 10, 0, 0, 1, 0x1a, 0xe1},
		(&ScrapeResponse{TransactionID: 3, Entries: make([]ScrapeEntry, 2)}).AppendBinary(nil),
		(&ErrorResponse{TransactionID: 4, Message: "no"}).AppendBinary(nil),
		{0, 0, 0, 1},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, v6 := range []bool{false, true} {
			resp, err := ParseResponse(pkt, v6)
			if err != nil {
				continue
			}
			var out []byte
			switch r := resp.(type) {
			case *ConnectResponse:
				out = r.AppendBinary(nil)
				pkt := pkt[:ConnectResponseLen]
				if !bytes.Equal(out, pkt) {
					t.Fatalf("connect response %x re-encodes as %x", pkt, out)
				}
			case *ScrapeResponse:
				if out = r.AppendBinary(nil); !bytes.Equal(out, pkt) {
					t.Fatalf("scrape response %x re-encodes as %x", pkt, out)
				}
			case *ErrorResponse:
				if out = r.AppendBinary(nil); !bytes.Equal(out, pkt) {
					t.Fatalf("error response %x re-encodes as %x", pkt, out)
				}
			case *AnnounceResponse:
				stride := compact.IPv4Len
				if v6 {
					stride = compact.IPv6Len
				}
				if len(r.Peers) > (len(pkt)-AnnounceResponseMin)/stride {
					t.Fatalf("%d peers from %d bytes", len(r.Peers), len(pkt))
				}
			}
		}
		req, err := ParseRequest(pkt)
		if err != nil {
			return
		}
		switch r := req.(type) {
		case *ConnectRequest:
			if out := r.AppendBinary(nil); !bytes.Equal(out, pkt[:ConnectRequestLen]) {
				t.Fatalf("connect request %x re-encodes as %x", pkt, out)
			}
		case *AnnounceRequest:
			if out := r.AppendBinary(nil); !bytes.Equal(out[:AnnounceRequestLen], pkt[:AnnounceRequestLen]) {
				t.Fatalf("announce request %x re-encodes as %x", pkt, out)
			}
			if len(r.URLData) > maxURLData {
				t.Fatalf("URL data of %d bytes", len(r.URLData))
			}
		case *ScrapeRequest:
			if out := r.AppendBinary(nil); !bytes.Equal(out, pkt) {
				t.Fatalf("scrape request %x re-encodes as %x", pkt, out)
			}
		}
	})
}
