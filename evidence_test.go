package bt

import (
	"slices"
	"testing"
)

// TestVerdict: once a failed piece passes, the senders of the blocks whose
// hash changed are guilty and every other sender is cleared, each once.
func TestVerdict(t *testing.T) {
	a, b, c := &peer{client: "a"}, &peer{client: "b"}, &peer{client: "c"}
	h := func(x byte) [20]byte { return [20]byte{x} }
	fp := &failedPiece{
		hashes:  [][20]byte{h(1), h(9), h(3), h(4), h(9), h(6)},
		senders: []*peer{a, b, c, a, b, nil},
	}
	passed := [][20]byte{h(1), h(2), h(3), h(4), h(5), h(7)}
	guilty, cleared := fp.verdict(passed)
	if !slices.Equal(guilty, []*peer{b}) {
		t.Errorf("guilty %v, want only b", names(guilty))
	}
	if !slices.Equal(cleared, []*peer{a, c}) {
		t.Errorf("cleared %v, want a and c", names(cleared))
	}

	// Every block the same: the piece failed on no block we can name
	// (it cannot happen with SHA-1, but nobody is convicted on nothing).
	guilty, cleared = fp.verdict(fp.hashes)
	if len(guilty) != 0 || len(cleared) != 3 {
		t.Errorf("identical hashes: guilty %v, cleared %v", names(guilty), names(cleared))
	}
	// A shorter list of passed hashes convicts only on what it covers.
	guilty, _ = fp.verdict(passed[:1])
	if len(guilty) != 0 {
		t.Errorf("no evidence for blocks past the first, but guilty %v", names(guilty))
	}
}

// TestStrike: without evidence every sender of a failed piece gets a
// strike; a peer is banned only at the limit and strictly ahead of every
// other sender of that piece.
func TestStrike(t *testing.T) {
	liar, honest, other := &peer{client: "liar"}, &peer{client: "honest"}, &peer{client: "other"}
	const limit = 3
	// Two pieces shared by the liar and the honest peer: tied, nobody.
	for range 2 {
		if p := strike([]*peer{liar, honest}, limit); p != nil {
			t.Fatalf("banned %s on a tie", p.client)
		}
	}
	// A third with another peer: the liar reaches the limit strictly
	// ahead of the other sender (3 to 1). The honest peer's 2 strikes do
	// not compete: it did not send this piece.
	if p := strike([]*peer{liar, other}, limit); p != liar {
		t.Fatalf("banned %v, want the liar", p)
	}
	if liar.badPieces != 3 || honest.badPieces != 2 || other.badPieces != 1 {
		t.Errorf("strikes liar %d honest %d other %d, want 3 2 1", liar.badPieces, honest.badPieces, other.badPieces)
	}
	// Tied at the limit: nobody.
	x, y := &peer{badPieces: limit - 1}, &peer{badPieces: limit - 1}
	if p := strike([]*peer{x, y}, limit); p != nil {
		t.Error("banned one of two peers tied at the limit")
	}
	// Below the limit: nobody, however far ahead.
	z := &peer{}
	if p := strike([]*peer{z, &peer{}}, limit); p != nil || z.badPieces != 1 {
		t.Errorf("banned below the limit, or no strike counted (%d)", z.badPieces)
	}
}

// TestDistinct: each sender once, in order, without the blocks nobody sent.
func TestDistinct(t *testing.T) {
	a, b := &peer{}, &peer{}
	if got := distinct([]*peer{nil, a, b, a, nil, b}); !slices.Equal(got, []*peer{a, b}) {
		t.Errorf("distinct = %v", got)
	}
}

func names(ps []*peer) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.client)
	}
	return out
}
