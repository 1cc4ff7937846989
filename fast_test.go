package bt

import (
	"net/netip"
	"slices"
	"testing"
)

// TestAllowedFastSetBEP6 checks the example given in BEP 6: 80.4.4.200, an
// info hash of twenty 0xaa bytes, 1313 pieces.
func TestAllowedFastSetBEP6(t *testing.T) {
	var ih [20]byte
	for i := range ih {
		ih[i] = 0xaa
	}
	addr := netip.MustParseAddr("80.4.4.200")
	got7 := allowedFastSet(addr, ih, 1313, 7)
	if want := []int{1059, 431, 808, 1217, 287, 376, 1188}; !slices.Equal(got7, want) {
		t.Errorf("7 pieces: %v, want %v", got7, want)
	}
	got9 := allowedFastSet(addr, ih, 1313, 9)
	if want := []int{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}; !slices.Equal(got9, want) {
		t.Errorf("9 pieces: %v, want %v", got9, want)
	}
	if got := allowedFastSet(addr, ih, 3, 10); len(got) != 3 {
		t.Errorf("3-piece torrent: %v", got)
	}
}
