package pex

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestMessageRoundTrip(t *testing.T) {
	m := &Message{
		Added: []Peer{
			{ap("10.0.0.1:6881"), FlagSeed | FlagReachable},
			{ap("[2001:db8::1]:51413"), FlagUTP},
			{ap("192.168.1.2:1"), 0},
		},
		Dropped: []netip.AddrPort{ap("10.0.0.9:6882"), ap("[2001:db8::9]:80")},
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Message{
		Added:   []Peer{m.Added[0], m.Added[2], m.Added[1]}, // IPv4 list first
		Dropped: m.Dropped,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestMarshalExactBytes(t *testing.T) {
	m := &Message{Added: []Peer{{ap("1.2.3.4:258"), FlagSeed}}, Dropped: []netip.AddrPort{ap("5.6.7.8:1")}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "d5:added6:\x01\x02\x03\x04\x01\x027:added.f1:\x027:dropped6:\x05\x06\x07\x08\x00\x01e"
	if string(b) != want {
		t.Errorf("Marshal = %q, want %q", b, want)
	}
}

func TestParseNotADictionary(t *testing.T) {
	for _, in := range []string{"", "le", "i42e", "3:abc", "d5:added", "garbage", "d5:added6:abcdefee"} {
		if _, err := ParseMessage([]byte(in)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("ParseMessage(%q) error = %v, want ErrInvalidMessage", in, err)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	big := fmt.Appendf(nil, "d5:added%d:%se", MaxPayload, strings.Repeat("a", MaxPayload))
	if _, err := ParseMessage(big); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("error = %v, want ErrInvalidMessage", err)
	}
}

func TestParseWrongLengthIgnoresPartialEntry(t *testing.T) {
	// 6 bytes of one IPv4 peer plus 3 stray bytes; one IPv6 peer plus 5.
	v4 := "\x0a\x00\x00\x01\x1a\xe1" + "xyz"
	v6 := "\x20\x01\x0d\xb8" + strings.Repeat("\x00", 11) + "\x01\x1a\xe1" + "12345"
	in := fmt.Sprintf("d5:added%d:%s6:added6%d:%s7:dropped4:abcde", len(v4), v4, len(v6), v6)
	m, err := ParseMessage([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Added) != 2 || m.Added[0].Addr != ap("10.0.0.1:6881") || m.Added[1].Addr != ap("[2001:db8::1]:6881") {
		t.Errorf("Added = %v", m.Added)
	}
	if len(m.Dropped) != 0 {
		t.Errorf("Dropped = %v, want none from a 4-byte string", m.Dropped)
	}
}

func TestParseShortFlagString(t *testing.T) {
	list := "\x0a\x00\x00\x01\x00\x01" + "\x0a\x00\x00\x02\x00\x02" + "\x0a\x00\x00\x03\x00\x03"
	in := fmt.Sprintf("d5:added%d:%s7:added.f1:\x03e", len(list), list)
	m, err := ParseMessage([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Flags{FlagPrefersEncryption | FlagSeed, 0, 0}
	if len(m.Added) != 3 {
		t.Fatalf("Added = %v", m.Added)
	}
	for i, p := range m.Added {
		if p.Flags != want[i] {
			t.Errorf("peer %d flags = %v, want %v", i, p.Flags, want[i])
		}
	}
}

func TestParseSkipsUnusableAddresses(t *testing.T) {
	list := "\x0a\x00\x00\x01\x00\x00" + // port 0
		"\x00\x00\x00\x00\x1a\xe1" + // 0.0.0.0
		"\xe0\x00\x00\x01\x1a\xe1" + // multicast
		"\xff\xff\xff\xff\x1a\xe1" + // broadcast
		"\x0a\x00\x00\x02\x1a\xe1" // good
	v6 := strings.Repeat("\x00", 10) + "\xff\xff\x0a\x00\x00\x03\x1a\xe1" // IPv4-mapped
	in := fmt.Sprintf("d5:added%d:%s6:added6%d:%se", len(list), list, len(v6), v6)
	m, err := ParseMessage([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Added) != 2 || m.Added[0].Addr != ap("10.0.0.2:6881") || m.Added[1].Addr != ap("10.0.0.3:6881") {
		t.Errorf("Added = %v, want 10.0.0.2:6881 and the unmapped 10.0.0.3:6881", m.Added)
	}
}

func TestParseThousandsOfEntriesTruncated(t *testing.T) {
	var list, flags bytes.Buffer
	for i := range 5000 {
		list.Write([]byte{10, byte(i >> 16), byte(i >> 8), byte(i), 0x1a, 0xe1})
		flags.WriteByte(0)
	}
	in := fmt.Appendf(nil, "d5:added%d:%s7:added.f%d:%s7:dropped%d:%se",
		list.Len(), list.Bytes(), flags.Len(), flags.Bytes(), list.Len(), list.Bytes())
	m, err := ParseMessage(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Added) != MaxParsedEntries || len(m.Dropped) != MaxParsedEntries {
		t.Errorf("got %d added, %d dropped; want %d each", len(m.Added), len(m.Dropped), MaxParsedEntries)
	}
}

func TestParseIgnoresWrongTypes(t *testing.T) {
	m, err := ParseMessage([]byte("d5:addedi5e7:added.fle7:droppedd1:ai1ee3:zzz3:xyze"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Added) != 0 || len(m.Dropped) != 0 {
		t.Errorf("got %+v, want empty", m)
	}
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                                     "0",
		FlagSeed | FlagUTP:                    "seed|utp",
		FlagPrefersEncryption | FlagReachable: "encryption|reachable",
		FlagHolepunch | 0x80:                  "holepunch|0x80",
	} {
		if got := f.String(); got != want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint8(f), got, want)
		}
	}
}
