package wire

import (
	"bytes"
	"net"
	"slices"
	"testing"
)

// The example of BEP 6.
func TestAllowedFastSet(t *testing.T) {
	var ih [20]byte
	copy(ih[:], bytes.Repeat([]byte{0xaa}, 20))
	ip := net.ParseIP("80.4.4.200")
	if got, want := AllowedFastSet(ip, ih, 1313, 7), []int{1059, 431, 808, 1217, 287, 376, 1188}; !slices.Equal(got, want) {
		t.Fatalf("7: got %v, want %v", got, want)
	}
	if got, want := AllowedFastSet(ip, ih, 1313, 9), []int{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}; !slices.Equal(got, want) {
		t.Fatalf("9: got %v, want %v", got, want)
	}
	if got := AllowedFastSet(ip, ih, 3, 10); len(got) != 3 {
		t.Fatalf("k capped: %v", got)
	}
	if AllowedFastSet(ip, ih, 0, 10) != nil {
		t.Fatal("empty torrent")
	}
}

func TestConnString(t *testing.T) {
	a, b := tcpPair(t, testConfig('a'), testConfig('b'))
	if s := a.String(); s != b.LocalAddr().String()+" b" {
		t.Fatalf("String() = %q", s)
	}
}
