package metainfo

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, and what it accepts keeps the layout
// invariants and survives Marshal → Parse with the same info hash.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("testdata/libtorrent/*.torrent")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("d4:infod6:lengthi999999999999999e4:name1:a12:piece lengthi1e6:pieces0:ee"))
	f.Add([]byte("d4:infod5:filesli1ei2ee4:name1:a12:piece lengthi16e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		checkLayout(t, m)
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(out)
		if err != nil || m2.InfoHash != m.InfoHash {
			t.Fatalf("re-parse: %v", err)
		}
		if mg, err := ParseMagnet(m.Magnet().String()); err != nil || mg.InfoHash != m.InfoHash {
			t.Fatalf("magnet of a parsed torrent: %v", err)
		}
	})
}

// FuzzParseMagnet: ParseMagnet never panics, and String of what it
// accepts parses to the same link.
func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&dn=x&tr=http://a/&so=1,3-4")
	f.Add("magnet:?xt=urn:btih:YD62D3NP3PN3SZCDIJHAWOEZV5YVTUIO&x.pe=1.2.3.4:5&ws=http%3A%2F%2Fw")
	f.Add("magnet:?xt=urn:btmh:1220abababababababababababababababababababababababababababababababab")
	f.Add("magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&kt=a+b&xl=10&x.foo=%00")
	f.Fuzz(func(t *testing.T, uri string) {
		m, err := ParseMagnet(uri)
		if err != nil {
			return
		}
		s := m.String()
		m2, err := ParseMagnet(s)
		if err != nil {
			t.Fatalf("re-parse %q: %v", s, err)
		}
		if s2 := m2.String(); s2 != s {
			t.Fatalf("String not stable:\n%q\n%q", s, s2)
		}
	})
}
