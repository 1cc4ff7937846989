package metainfo

import (
	"crypto/sha1"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/bt-go/bt/bencode"
)

// torrent bencodes a torrent whose info dictionary is info, with the
// top-level fields of top added.
// tb is what test helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(...any)
	Fatalf(string, ...any)
}

func torrent(t tb, info map[string]any, top map[string]any) []byte {
	t.Helper()
	d := map[string]any{"info": info}
	for k, v := range top {
		d[k] = v
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// singleInfo returns a valid single-file info dictionary of length bytes.
func singleInfo(length int64, pieceLength int64) map[string]any {
	n := (length + pieceLength - 1) / pieceLength
	return map[string]any{
		"name": "file.bin", "length": length, "piece length": pieceLength,
		"pieces": strings.Repeat("x", int(n)*20),
	}
}

func multiInfo(files ...map[string]any) map[string]any {
	var total int64
	list := make([]any, len(files))
	for i, f := range files {
		if _, ok := f["length"]; !ok {
			f["length"] = int64(10)
		}
		if attr, _ := f["attr"].(string); !strings.Contains(attr, "l") {
			total += f["length"].(int64)
		}
		list[i] = f
	}
	const pl = 16
	return map[string]any{
		"name": "dir", "files": list, "piece length": int64(pl),
		"pieces": strings.Repeat("y", int((total+pl-1)/pl)*20),
	}
}

func TestParseValid(t *testing.T) {
	data := torrent(t, singleInfo(100_000, 16384), map[string]any{
		"announce":      "http://a/announce",
		"announce-list": []any{[]any{"http://a/announce", " http://b/announce "}, []any{}, []any{"udp://c:1", int64(5), "http://a/announce"}},
		"url-list":      "http://web/seed",
		"creation date": int64(1700000000),
		"comment":       "hi",
		"created by":    "test",
		"encoding":      "UTF-8",
	})
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != Hash(sha1.Sum(raw.Info)) || string(m.InfoBytes) != string(raw.Info) {
		t.Fatal("info hash is not the SHA-1 of the raw info bytes")
	}
	if m.Info.NumPieces() != 7 || m.Info.TotalLength() != 100_000 || m.Info.IsMultiFile() {
		t.Fatalf("info %+v", m.Info)
	}
	wantTiers := [][]string{{"http://a/announce", "http://b/announce"}, {"udp://c:1"}}
	if len(m.AnnounceList) != 2 || strings.Join(m.AnnounceList[0], " ") != strings.Join(wantTiers[0], " ") ||
		strings.Join(m.AnnounceList[1], " ") != "udp://c:1" {
		t.Fatalf("announce-list %q", m.AnnounceList)
	}
	if len(m.URLList) != 1 || m.URLList[0] != "http://web/seed" || m.CreationDate != 1700000000 ||
		m.Comment != "hi" || m.CreatedBy != "test" || m.Encoding != "UTF-8" {
		t.Fatalf("fields %+v", m)
	}
	// Marshal keeps the info bytes, so the hash survives a round trip.
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Parse(out)
	if err != nil || m2.InfoHash != m.InfoHash || len(m2.AnnounceList) != 2 {
		t.Fatalf("round trip: %v %+v", err, m2)
	}
}

func TestParseLenientOptionalFields(t *testing.T) {
	m, err := Parse(torrent(t, singleInfo(10, 16384), map[string]any{
		"announce": int64(3), "announce-list": "nope", "url-list": []any{"http://x/", int64(1), "", "http://x/"},
		"creation date": "yesterday", "comment": []any{},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if m.Announce != "" || m.AnnounceList != nil || len(m.URLList) != 1 || m.CreationDate != 0 || m.Comment != "" {
		t.Fatalf("%+v", m)
	}
	// Trailing bytes after the torrent are ignored.
	if _, err := Parse(append(torrent(t, singleInfo(10, 16384), nil), "\r\n"...)); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	with := func(change func(m map[string]any)) []byte {
		info := singleInfo(100_000, 16384)
		change(info)
		return torrent(t, info, nil)
	}
	huge := int64(1) << 62
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotTorrent},
		{"not a dict", []byte("4:spam"), ErrNotTorrent},
		{"truncated", torrent(t, singleInfo(10, 16384), nil)[:30], ErrNotTorrent},
		{"no info", []byte("d8:announce3:abce"), ErrNoInfo},
		{"info not a dict", []byte("d4:info4:spame"), ErrNoInfo},
		{"no name", with(func(m map[string]any) { delete(m, "name") }), ErrName},
		{"empty name", with(func(m map[string]any) { m["name"] = "" }), ErrName},
		{"NUL in name", with(func(m map[string]any) { m["name"] = "a\x00b" }), ErrName},
		{"name not a string", with(func(m map[string]any) { m["name"] = int64(1) }), ErrMalformed},
		{"no piece length", with(func(m map[string]any) { delete(m, "piece length") }), ErrPieceLength},
		{"zero piece length", with(func(m map[string]any) { m["piece length"] = int64(0) }), ErrPieceLength},
		{"negative piece length", with(func(m map[string]any) { m["piece length"] = int64(-16384) }), ErrPieceLength},
		{"absurd piece length", with(func(m map[string]any) { m["piece length"] = int64(1) << 30 }), ErrPieceLength},
		{"no pieces", with(func(m map[string]any) { delete(m, "pieces") }), ErrPieces},
		{"pieces not multiple of 20", with(func(m map[string]any) { m["pieces"] = strings.Repeat("x", 7*20+1) }), ErrPieces},
		{"too few pieces", with(func(m map[string]any) { m["pieces"] = strings.Repeat("x", 6*20) }), ErrPieceCount},
		{"too many piece hashes", with(func(m map[string]any) { m["pieces"] = strings.Repeat("x", 8*20) }), ErrPieceCount},
		{"too many pieces", with(func(m map[string]any) { m["length"] = int64(MaxPieces+1) * 16384 }), ErrTooManyPieces},
		{"billions of pieces", with(func(m map[string]any) { m["length"] = huge; m["piece length"] = int64(1) }), ErrTooManyPieces},
		{"negative length", with(func(m map[string]any) { m["length"] = int64(-1) }), ErrLength},
		{"zero length", with(func(m map[string]any) { m["length"] = int64(0); m["pieces"] = "" }), ErrNoFiles},
		{"length overflow", with(func(m map[string]any) { m["length"] = "99999999999999999999" }), ErrMalformed},
		{"neither length nor files", with(func(m map[string]any) { delete(m, "length") }), ErrLength},
		{"both length and files", with(func(m map[string]any) { m["files"] = []any{} }), ErrLength},
		{"no files", torrent(t, map[string]any{"name": "d", "piece length": int64(16), "pieces": "", "files": []any{}}, nil), ErrNoFiles},
		{"file negative", torrent(t, multiInfo(map[string]any{"path": []any{"a"}, "length": int64(-5)}), nil), ErrLength},
		{"file sizes overflow", torrent(t, func() map[string]any {
			m := multiInfo(map[string]any{"path": []any{"a"}}, map[string]any{"path": []any{"b"}})
			m["files"].([]any)[0].(map[string]any)["length"] = int64(1<<63 - 1)
			return m
		}(), nil), ErrLength},
		{"file without length", torrent(t, map[string]any{"name": "d", "piece length": int64(16), "pieces": strings.Repeat("x", 20),
			"files": []any{map[string]any{"path": []any{"a"}}}}, nil), ErrLength},
		{"file without path", torrent(t, multiInfo(map[string]any{"length": int64(5)}), nil), ErrPath},
		{"path element not a string", torrent(t, multiInfo(map[string]any{"path": []any{int64(1), "a"}}), nil), ErrMalformed},
		{"NUL in path", torrent(t, multiInfo(map[string]any{"path": []any{"a\x00.txt"}}), nil), ErrPath},
		{"v2 only", with(func(m map[string]any) { delete(m, "pieces"); m["meta version"] = int64(2) }), ErrV2Only},
		{"meta version 3", with(func(m map[string]any) { m["meta version"] = int64(3) }), ErrVersion},
		{"hybrid without file tree", with(func(m map[string]any) { m["meta version"] = int64(2) }), ErrHybrid},
		{"hybrid with other files", with(func(m map[string]any) {
			m["meta version"] = int64(2)
			m["file tree"] = map[string]any{"other.bin": map[string]any{"": map[string]any{"length": int64(100_000)}}}
		}), ErrHybrid},
		{"hybrid with other length", with(func(m map[string]any) {
			m["meta version"] = int64(2)
			m["file tree"] = map[string]any{"file.bin": map[string]any{"": map[string]any{"length": int64(100_001)}}}
		}), ErrHybrid},
		{"hybrid piece length not a power of two", with(func(m map[string]any) {
			m["meta version"] = int64(2)
			m["piece length"] = int64(20000)
			m["pieces"] = strings.Repeat("x", 5*20)
			m["file tree"] = map[string]any{"file.bin": map[string]any{"": map[string]any{"length": int64(100_000)}}}
		}), ErrPieceLength},
		{"deep nesting", []byte("d4:info" + strings.Repeat("l", 200) + strings.Repeat("e", 200) + "e"), ErrNotTorrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want %v", m, err, tt.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Fatalf("multi-line error %q", err)
			}
		})
	}
}

func TestHybridLoads(t *testing.T) {
	// A hybrid with its v1 files aligned by pad files loads by its v1 side.
	pl := int64(16384)
	info := map[string]any{
		"name": "h", "piece length": pl, "meta version": int64(2),
		"files": []any{
			map[string]any{"length": int64(100), "path": []any{"a"}},
			map[string]any{"length": pl - 100, "path": []any{".pad", "16284"}, "attr": "p"},
			map[string]any{"length": int64(5), "path": []any{"b"}, "attr": "x"},
		},
		"pieces": strings.Repeat("z", 40),
		"file tree": map[string]any{
			"a": map[string]any{"": map[string]any{"length": int64(100), "pieces root": strings.Repeat("r", 32)}},
			"b": map[string]any{"": map[string]any{"length": int64(5), "pieces root": strings.Repeat("s", 32)}},
		},
	}
	m, err := Parse(torrent(t, info, map[string]any{"piece layers": map[string]any{}}))
	if err != nil {
		t.Fatal(err)
	}
	l := m.Info.Layout()
	if !m.Info.Hybrid || !l.Files[1].Pad || l.Files[2].Offset != pl || l.Files[2].Attr != "x" {
		t.Fatalf("hybrid %v, layout %+v", m.Info.Hybrid, l.Files)
	}
	// Misaligned: b no longer starts on a piece boundary.
	info["files"].([]any)[1].(map[string]any)["length"] = pl - 99
	if _, err := Parse(torrent(t, info, nil)); !errors.Is(err, ErrHybrid) {
		t.Fatalf("misaligned hybrid: %v", err)
	}
}

func TestSymlinkAndPad(t *testing.T) {
	info := multiInfo(
		map[string]any{"path": []any{"a"}, "length": int64(20)},
		map[string]any{"path": []any{"link"}, "length": int64(999), "attr": "l", "symlink path": []any{"a"}},
		map[string]any{"length": int64(12), "attr": "p"},
		map[string]any{"path": []any{"_____padding_file_0"}, "length": int64(8)},
		map[string]any{"path": []any{"b"}, "length": int64(3)},
	)
	m, err := Parse(torrent(t, info, nil))
	if err != nil {
		t.Fatal(err)
	}
	l := m.Info.Layout()
	if l.TotalLength != 43 || !l.Files[1].Symlink || l.Files[1].Length != 0 || !l.Files[2].Pad || !l.Files[3].Pad || l.Files[4].Offset != 40 {
		t.Fatalf("layout %+v", l.Files)
	}
	if got := strings.Join(l.Files[2].Path, "/"); got != "dir/.pad/12" {
		t.Fatalf("pad without path is at %q", got)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileSizesBoundedMemory: sizes and counts the input claims (a
// length of 2^62 in 1-byte pieces, a pieces string of a gigabyte, a file
// list of 2^62-byte files) cost memory in proportion to the input, not to
// the claim.
func TestHostileSizesBoundedMemory(t *testing.T) {
	huge := int64(1) << 62
	for name, data := range map[string][]byte{
		"2^62 one-byte pieces": torrent(t, map[string]any{"name": "a", "length": huge, "piece length": int64(1), "pieces": ""}, nil),
		"claimed pieces":       []byte("d4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces999999999:abcee"),
		"huge files": torrent(t, map[string]any{"name": "d", "piece length": int64(16), "pieces": strings.Repeat("x", 20),
			"files": []any{map[string]any{"path": []any{"a"}, "length": huge}, map[string]any{"path": []any{"b"}, "length": huge}}}, nil),
	} {
		n := allocated(func() {
			if _, err := Parse(data); err == nil {
				t.Errorf("%s: accepted", name)
			}
		})
		if limit := 64*uint64(len(data)) + 64<<10; n > limit {
			t.Errorf("%s: %d bytes allocated for %d bytes of input (limit %d)", name, n, len(data), limit)
		}
	}
}
