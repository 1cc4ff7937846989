package compact

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"1.2.3.4:6881", "[2001:db8::1]:51413", "255.255.255.255:65535"} {
		p := netip.MustParseAddrPort(s)
		b := Append(nil, p)
		want := IPv4Len
		if p.Addr().Is6() {
			want = IPv6Len
		}
		if len(b) != want {
			t.Errorf("%v: %d bytes, want %d", p, len(b), want)
		}
		if got, ok := Parse(b); !ok || got != p {
			t.Errorf("%v: parsed back as %v, %v", p, got, ok)
		}
	}
	// An IPv4-mapped address is written in 6 bytes.
	if b := Append(nil, netip.MustParseAddrPort("[::ffff:1.2.3.4]:80")); len(b) != IPv4Len {
		t.Errorf("mapped address written in %d bytes", len(b))
	}
	if _, ok := Parse(make([]byte, 7)); ok {
		t.Error("a 7-byte entry parsed")
	}
}

func TestParseList(t *testing.T) {
	var b []byte
	for _, s := range []string{"1.2.3.4:1", "0.0.0.0:2", "5.6.7.8:0", "9.9.9.9:3"} {
		b = Append(b, netip.MustParseAddrPort(s))
	}
	got, err := ParseList(b, IPv4Len)
	want := []netip.AddrPort{netip.MustParseAddrPort("1.2.3.4:1"), netip.MustParseAddrPort("9.9.9.9:3")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseList = %v, %v; want %v", got, err, want)
	}
	mapped := Append(nil, netip.MustParseAddrPort("[2001:db8::1]:1"))
	mapped = append(mapped, netip.MustParseAddr("::ffff:10.0.0.1").AsSlice()...)
	mapped = append(mapped, 0, 9)
	got, err = ParseList(mapped, IPv6Len)
	if err != nil || len(got) != 2 || got[1] != netip.MustParseAddrPort("10.0.0.1:9") {
		t.Errorf("IPv6 list = %v, %v", got, err)
	}
	if _, err := ParseList(b[:5], IPv4Len); !errors.Is(err, ErrLength) {
		t.Errorf("short list: %v", err)
	}
	if _, err := ParseList(b, 7); err == nil {
		t.Error("entry size 7 accepted")
	}
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 0, 1}, true)
	f.Fuzz(func(t *testing.T, b []byte, v4 bool) {
		stride := IPv6Len
		if v4 {
			stride = IPv4Len
		}
		ps, err := ParseList(b, stride)
		if err != nil {
			return
		}
		if len(ps) > len(b)/stride {
			t.Fatalf("%d peers from %d bytes", len(ps), len(b))
		}
		for _, p := range ps {
			if !Dialable(p) || p.Addr().Is4In6() {
				t.Fatalf("kept %v", p)
			}
			if q, _ := Parse(Append(nil, p)); q != p {
				t.Fatalf("%v round-trips as %v", p, q)
			}
		}
	})
}
