package metainfo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const testHex = "c0fda1edafdbdbb96443424e0b3899af7159d10e"

func TestParseMagnet(t *testing.T) {
	uri := "magnet:?xt=urn:btih:" + strings.ToUpper(testHex) +
		"&dn=Some+Name%20here&xl=12345&tr=http%3A%2F%2Fa%2Fannounce&tr=udp://b:80&tr=udp://b:80" +
		"&ws=http://web/x&x.pe=127.0.0.1:6881&x.pe=[::1]:51413&x.pe=nonsense&so=0,2,4-6&kt=a+b" +
		"&xt=urn:btmh:1220" + strings.Repeat("ab", 32)
	m, err := ParseMagnet(uri)
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash.String() != testHex || m.Name != "Some Name here" || m.Length != 12345 {
		t.Fatalf("%+v", m)
	}
	if fmt.Sprint(m.Trackers) != "[http://a/announce udp://b:80]" || fmt.Sprint(m.WebSeeds) != "[http://web/x]" ||
		fmt.Sprint(m.Peers) != "[127.0.0.1:6881 [::1]:51413]" || fmt.Sprint(m.SelectOnly) != "[{0 0} {2 2} {4 6}]" ||
		len(m.InfoHashV2) != 32 || m.Params.Get("kt") != "a b" {
		t.Fatalf("%+v", m)
	}
	if !m.Selected(5) || m.Selected(3) || m.Selected(7) {
		t.Fatal("Selected")
	}
	// String writes everything back; parsing it again gives the same link.
	s := m.String()
	m2, err := ParseMagnet(s)
	if err != nil {
		t.Fatal(err)
	}
	if s2 := m2.String(); s2 != s {
		t.Fatalf("round trip:\n%s\n%s", s, s2)
	}
	if !strings.HasPrefix(s, "magnet:?xt=urn:btih:"+testHex+"&xt=urn:btmh:1220abab") || !strings.Contains(s, "dn=Some%20Name%20here") || !strings.Contains(s, "so=0,2,4-6") {
		t.Fatalf("String = %s", s)
	}
}

func TestParseMagnetBase32(t *testing.T) {
	m, err := ParseMagnet("magnet:?xt=urn:btih:YD62D3NP3PN3SZCDIJHAWOEZV5YVTUIO")
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash.String() != testHex {
		t.Fatalf("base32 hash = %s", m.InfoHash)
	}
	m2, err := ParseMagnet("MAGNET:?xt=urn:btih:yd62d3np3pn3szcdijhawoezv5yvtuio")
	if err != nil || m2.InfoHash != m.InfoHash {
		t.Fatalf("lowercase base32: %v", err)
	}
}

func TestParseMagnetThousandTrackers(t *testing.T) {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:" + testHex)
	for i := range 1000 {
		fmt.Fprintf(&b, "&tr=udp://tracker%d.example:80", i)
	}
	m, err := ParseMagnet(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trackers) != 1000 {
		t.Fatalf("%d trackers", len(m.Trackers))
	}
}

func TestParseMagnetErrors(t *testing.T) {
	tests := []struct {
		uri  string
		want error
	}{
		{"http://example.com/", ErrMagnet},
		{"magnet:?dn=x", ErrMagnet},
		{"magnet:?xt=urn:btih:1234", ErrInvalidHash},
		{"magnet:?xt=urn:btih:" + strings.Repeat("g", 40), ErrInvalidHash},
		{"magnet:?xt=urn:btih:" + strings.Repeat("1", 32), ErrInvalidHash},
		{"magnet:?xt=urn:btih:" + testHex + "&xt=urn:btih:" + strings.Repeat("0", 40), ErrMagnet},
		{"magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32), ErrV2Only},
		{"magnet:?xt=urn:btih:" + testHex + "&xt=urn:btmh:1220abcd", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&xl=-1", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&so=3-1", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&so=x", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&so=99999999999", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&dn=%zz", ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + strings.Repeat("&", MaxMagnetParams), ErrMagnet},
		{"magnet:?xt=urn:btih:" + testHex + "&dn=" + strings.Repeat("a", MaxMagnetLength), ErrMagnet},
	}
	for _, tt := range tests {
		m, err := ParseMagnet(tt.uri)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseMagnet(%.80q) = %v, %v; want %v", tt.uri, m, err, tt.want)
		}
	}
}

func TestParseHash(t *testing.T) {
	h, err := ParseHash(testHex)
	if err != nil || h.String() != testHex {
		t.Fatal(h, err)
	}
	var h2 Hash
	if err := h2.UnmarshalText([]byte(testHex)); err != nil || h2 != h {
		t.Fatal(err)
	}
	if b, _ := h.MarshalText(); string(b) != testHex {
		t.Fatal(string(b))
	}
	if _, err := ParseHash(""); !errors.Is(err, ErrInvalidHash) {
		t.Fatal(err)
	}
}

func TestMetaInfoMagnet(t *testing.T) {
	m, err := Parse(torrent(t, singleInfo(10, 16384), map[string]any{
		"announce": "http://a/", "announce-list": []any{[]any{"http://a/"}, []any{"http://b/"}}, "url-list": []any{"http://w/"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	mg := m.Magnet()
	if mg.InfoHash != m.InfoHash || mg.Name != "file.bin" || fmt.Sprint(mg.Trackers) != "[http://a/ http://b/]" || fmt.Sprint(mg.WebSeeds) != "[http://w/]" {
		t.Fatalf("%+v", mg)
	}
}
