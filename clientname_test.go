package bt

import (
	"testing"

	"github.com/bt-go/bt/metainfo"
)

func TestClientName(t *testing.T) {
	id := func(s string) (b [20]byte) { copy(b[:], s); return }
	for _, c := range []struct{ id, want string }{
		{"-LT2080-abcdefghijkl", "libtorrent 2.0.8.0"},
		{"-TR3000-abcdefghijkl", "Transmission 3.0.0.0"},
		{"A2-1-36-0-abcdefghij", "aria2 1.36.0"},
		{"-BT0010-abcdefghijkl", "bt 0.0.1.0"},
		{"M7-4-2--abcdefghijkl", "Mainline 7.4.2"},
		{"\x00\x01abcdefghijklmnopq", ""},
		// The peer picks these bytes: nothing may reach a terminal raw.
		{"A2-\x1b[2J-\r\n-abcdefgh", `aria2 \x1b[2J.\r\n.abcdefgh\x00`},
		{"M7-\a\x1b]0;x--abcdefg", `Mainline 7.\x07\x1b]0;x`},
		{"-\x1b\n2080-abcdefghijkl", "?? 2.0.8.0"},
	} {
		if got := ClientName(id(c.id)); got != c.want {
			t.Errorf("ClientName(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	p := newPeerID()
	if string(p[:8]) != "-BT0010-" || ClientName(p) != "bt 0.0.1.0" {
		t.Errorf("our peer id %q", p)
	}
}

// metainfo cannot import bt: its created-by default spells the version out.
func TestCreatedByNamesVersion(t *testing.T) {
	if want := "bt/" + Version; metainfo.DefaultCreatedBy != want {
		t.Errorf("metainfo.DefaultCreatedBy = %q, want %q", metainfo.DefaultCreatedBy, want)
	}
}
