package krpc

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Examples from BEP 5.
var bep5 = []string{
	"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
	"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
	"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
	"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
	"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
	"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
	"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
}

func TestParseBEP5Examples(t *testing.T) {
	for _, s := range bep5 {
		if _, err := Parse([]byte(s)); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	m, _ := Parse([]byte(bep5[4]))
	want := []netip.AddrPort{
		netip.MustParseAddrPort("97.120.106.101:11893"),
		netip.MustParseAddrPort("105.100.104.116:28269"),
	}
	if diff := cmp.Diff(want, m.R.Values, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("values: %s", diff)
	}
	m, _ = Parse([]byte(bep5[6]))
	if m.E.Code != 201 || m.E.Msg != "A Generic Error Ocurred" {
		t.Errorf("error = %+v", m.E)
	}
}

func TestRoundTrip(t *testing.T) {
	var id, ih [20]byte
	copy(id[:], "abcdefghij0123456789")
	copy(ih[:], "mnopqrstuvwxyz123456")
	a := Args{ID: id, InfoHash: ih, Target: ih, Port: 6881, ImpliedPort: true, Token: []byte("tok"), Want: WantN4 | WantN6}
	for _, method := range []string{MethodPing, MethodFindNode, MethodGetPeers, MethodAnnouncePeer} {
		b := AppendQuery(nil, []byte("xy"), method, &a, true)
		m, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", method, b, err)
		}
		if m.Y != Query || m.Q != method || !m.RO || string(m.T) != "xy" || m.A.ID != id {
			t.Errorf("%s: got %+v", method, m)
		}
	}
	b := AppendQuery(nil, []byte("xy"), MethodAnnouncePeer, &a, false)
	if want := "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token3:toke1:q13:announce_peer1:t2:xy1:y1:qe"; string(b) != want {
		t.Errorf("announce = %q, want %q", b, want)
	}
	r := Return{
		ID:     id,
		Nodes:  []NodeInfo{{ID: ih, Addr: netip.MustParseAddrPort("1.2.3.4:5")}},
		Nodes6: []NodeInfo{{ID: ih, Addr: netip.MustParseAddrPort("[2001:db8::1]:6")}},
		Token:  []byte("tok"),
		Values: []netip.AddrPort{netip.MustParseAddrPort("9.8.7.6:5"), netip.MustParseAddrPort("[2001:db8::2]:7")},
	}
	ip := netip.MustParseAddrPort("10.0.0.1:99")
	b = AppendResponse(nil, []byte("t1"), &r, ip)
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(%q): %v", b, err)
	}
	if diff := cmp.Diff(r, m.R, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("response: %s", diff)
	}
	if m.IP != ip {
		t.Errorf("ip = %v", m.IP)
	}
	b = AppendError(nil, []byte("t1"), ErrProtocol, "bad token", ip)
	m, err = Parse(b)
	if err != nil || m.E.Code != ErrProtocol || m.E.Msg != "bad token" || m.IP != ip {
		t.Errorf("error: %+v, %v", m, err)
	}
}

func TestParseRejects(t *testing.T) {
	id := "abcdefghij0123456789"
	cases := map[string]string{
		"empty":              "",
		"not a dict":         "le",
		"no t":               "d1:rd2:id20:" + id + "e1:y1:re",
		"no y":               "d1:rd2:id20:" + id + "e1:t2:aae",
		"bad y":              "d1:rd2:id20:" + id + "e1:t2:aa1:y1:xe",
		"short id":           "d1:rd2:id19:" + id[:19] + "e1:t2:aa1:y1:re",
		"no id":              "d1:rde1:t2:aa1:y1:re",
		"long tid":           "d1:rd2:id20:" + id + "e1:t17:" + strings.Repeat("x", 17) + "1:y1:re",
		"long token":         "d1:rd2:id20:" + id + "5:token65:" + strings.Repeat("x", 65) + "e1:t2:aa1:y1:re",
		"nodes length":       "d1:rd2:id20:" + id + "5:nodes27:" + strings.Repeat("x", 27) + "e1:t2:aa1:y1:re",
		"nodes6 length":      "d1:rd2:id20:" + id + "6:nodes626:" + strings.Repeat("x", 26) + "e1:t2:aa1:y1:re",
		"value length":       "d1:rd2:id20:" + id + "6:valuesl5:xxxxxee1:t2:aa1:y1:re",
		"trailing":           "d1:rd2:id20:" + id + "e1:t2:aa1:y1:rex",
		"truncated":          "d1:rd2:id20:" + id + "e1:t2:aa1:y1:r",
		"query no a":         "d1:q4:ping1:t2:aa1:y1:qe",
		"port range":         "d1:ad2:id20:" + id + "4:porti70000ee1:q13:announce_peer1:t2:aa1:y1:qe",
		"deep":               "d1:x" + strings.Repeat("l", 40) + strings.Repeat("e", 40) + "1:rd2:id20:" + id + "e1:t2:aa1:y1:re",
		"huge string length": "d1:t99999999:",
		"leading zero":       "d1:t02:aa1:rd2:id20:" + id + "e1:y1:re",
		"bad int":            "d1:ad2:id20:" + id + "4:porti-0ee1:q4:ping1:t2:aa1:y1:qe",
	}
	for name, s := range cases {
		_, err := Parse([]byte(s))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: Parse(%q) = %v, want *SyntaxError", name, s, err)
		}
	}
}

func TestParseSkipsUnknown(t *testing.T) {
	s := "d1:ad2:id20:abcdefghij01234567891:xli1ed1:yleee4:wantl2:n65:othere1:zi-5ee1:q4:ping1:t0:1:v4:LT011:y1:qe"
	m, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if m.A.Want != WantN6 || m.Q != "ping" {
		t.Errorf("got %+v", m)
	}
}

func FuzzKRPC(f *testing.F) {
	for _, s := range bep5 {
		f.Add([]byte(s))
	}
	f.Add([]byte("d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789xxxxxx6:nodes638:abcdefghij0123456789xxxxxxxxxxxxxxxxxxe2:ip6:xxxxxx1:t2:aa1:y1:re"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses re-encodes into something that parses the same way.
		var out []byte
		switch m.Y {
		case Query:
			out = AppendQuery(nil, m.T, m.Q, &m.A, m.RO)
		case Response:
			out = AppendResponse(nil, m.T, &m.R, m.IP)
		case Error:
			out = AppendError(nil, m.T, m.E.Code, m.E.Msg, m.IP)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", out, err)
		}
		if !bytes.Equal(m.T, m2.T) || m.Y != m2.Y {
			t.Fatalf("round trip changed message: %+v vs %+v", m, m2)
		}
		if m.Y == Response && (len(m.R.Nodes) != len(m2.R.Nodes) || len(m.R.Values) != len(m2.R.Values)) {
			t.Fatalf("round trip changed response")
		}
	})
}
