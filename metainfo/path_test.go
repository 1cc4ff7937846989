package metainfo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeElement(t *testing.T) {
	long := strings.Repeat("é", 200) + ".mkv" // 404 bytes
	tests := []struct {
		in, want, windows string
	}{
		{"file.txt", "file.txt", "file.txt"},
		{"", "", ""},
		{".", "", ""},
		{"..", "", ""},
		{"/", "", ""},
		{`\..\`, "", ""},
		{"/etc", "etc", "etc"},
		{"a/../b", "a..b", "a..b"},
		{`C:\x`, "C:x", "C_x"},
		{"tab\there", "tab_here", "tab_here"},
		{"del\x7f", "del_", "del_"},
		{"c1\u0085", "c1_", "c1_"},
		{"evil\u202Etxt.exe", "evil_txt.exe", "evil_txt.exe"},
		{"iso\u2066x", "iso_x", "iso_x"},
		{"bad\xffutf8", "bad_utf8", "bad_utf8"},
		{"日本語.txt", "日本語.txt", "日本語.txt"},
		{"con.txt", "con.txt", "con_.txt"},
		{"COM1", "COM1", "COM1_"},
		{"aux.tar.gz", "aux.tar.gz", "aux_.tar.gz"},
		{"console", "console", "console"},
		{"what?<>|*\"", "what?<>|*\"", "what______"},
		{"trailing. ", "trailing. ", "trailing"},
		{"...", "...", "_"},
	}
	for _, tt := range tests {
		if got := sanitizeElement(tt.in, false); got != tt.want {
			t.Errorf("sanitizeElement(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := sanitizeElement(tt.in, true); got != tt.windows {
			t.Errorf("sanitizeElement(%q, windows) = %q, want %q", tt.in, got, tt.windows)
		}
	}
	got := sanitizeElement(long, false)
	if len(got) > maxElement || !strings.HasSuffix(got, ".mkv") || !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("long name shortened to %q (%d bytes)", got, len(got))
	}
}

func TestSanitizePath(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"a", "b"}, "a/b"},
		{[]string{"..", "..", "etc", "passwd"}, "etc/passwd"},
		{[]string{"", ""}, "_"},
		{nil, "_"},
		{[]string{"/"}, "_"},
		{[]string{"x/../../y", ".", "z"}, "x....y/z"},
	} {
		if got := strings.Join(sanitizePath(tt.in, false), "/"); got != tt.want {
			t.Errorf("sanitizePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDedupe(t *testing.T) {
	mk := func(paths ...string) []FileEntry {
		fs := make([]FileEntry, len(paths))
		for i, p := range paths {
			fs[i] = FileEntry{Path: strings.Split(p, "/"), Pad: strings.HasPrefix(p, "t/.pad")}
		}
		return fs
	}
	files := mk("t/a.txt", "t/a.txt", "t/a.txt", "t/d", "t/d/x", "t/a.1.txt", "t/.pad/1", "t/.pad/1", "t/n", "t/n")
	dedupe(files, false)
	var got []string
	for _, f := range files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	want := "t/a.txt t/a.1.txt t/a.2.txt t/d.1 t/d/x t/a.1.1.txt t/.pad/1 t/.pad/1 t/n t/n.1"
	if strings.Join(got, " ") != want {
		t.Fatalf("dedupe:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestDedupeManyClashes: renaming stays linear when every file has the
// same path.
func TestDedupeManyClashes(t *testing.T) {
	files := make([]FileEntry, 50_000)
	for i := range files {
		files[i] = FileEntry{Path: []string{"t", "same"}}
	}
	dedupe(files, false)
	if got := strings.Join(files[len(files)-1].Path, "/"); got != "t/same.49999" {
		t.Fatalf("last file at %q", got)
	}
}

// TestDeepPath: an absurdly deep or long path is refused up front (the
// attack: 10,000 directories in a 20 KB torrent); paths at the limits pass.
func TestDeepPath(t *testing.T) {
	elems := func(n int, e string) []any {
		p := make([]any, n)
		for i := range p {
			p[i] = e
		}
		return p
	}
	name := "dir" // multiInfo's
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		what string
		path []any
		ok   bool
	}{
		{"10,000 elements", elems(10_000, "a"), false},
		{"MaxPathDepth elements", elems(MaxPathDepth, "a"), true},
		{"MaxPathDepth+1 elements", elems(MaxPathDepth+1, "a"), false},
		{"15 long elements", elems(15, long), true},  // each counts 255: 3+15*256 = 3843
		{"16 long elements", elems(16, long), false}, // 4099
		{"at MaxPathLength", append(elems(15, long), strings.Repeat("y", MaxPathLength-len(name)-15*256-1)), true},
		{"past MaxPathLength", append(elems(15, long), strings.Repeat("y", MaxPathLength-len(name)-15*256)), false},
	} {
		_, err := Parse(torrent(t, multiInfo(map[string]any{"path": c.path}), nil))
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.what, err)
		}
		if !c.ok && !errors.Is(err, ErrPath) {
			t.Errorf("%s: got %v, want ErrPath", c.what, err)
		}
	}
}

func TestDedupeFoldCase(t *testing.T) {
	files := []FileEntry{{Path: []string{"t", "Read.ME"}}, {Path: []string{"t", "read.me"}}, {Path: []string{"T"}}, {Path: []string{"t", "DIR", "x"}}, {Path: []string{"t", "dir"}}}
	dedupe(files, true)
	var got []string
	for _, f := range files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	if want := "t/Read.ME t/read.1.me T.1 t/DIR/x t/dir.1"; strings.Join(got, " ") != want {
		t.Fatalf("got %s, want %s", strings.Join(got, " "), want)
	}
}

func TestRenamedLong(t *testing.T) {
	long := strings.Repeat("x", maxElement-4) + ".txt"
	if r := renamed(long, 12); len(r) != maxElement || !strings.HasSuffix(r, "x.12.txt") {
		t.Fatalf("renamed to %q (%d bytes)", r, len(r))
	}
}

// TestRenamedLongExtension: a long name whose extension is nearly all of it
// (a one-byte stem, or a stem with a dot of its own) is renamed within
// maxElement bytes without panicking.
func TestRenamedLongExtension(t *testing.T) {
	for _, name := range []string{
		"a." + strings.Repeat("x", maxElement-2),
		"ab." + strings.Repeat("x", maxElement-3),
		"a.bcdefg." + strings.Repeat("x", maxElement-9),
		"é." + strings.Repeat("é", (maxElement-3)/2),
	} {
		for _, n := range []int{1, 9, 10, 12345} {
			r := renamed(name, n)
			if len(r) > maxElement || r == name || !strings.Contains(r, fmt.Sprintf(".%d", n)) || !utf8.ValidString(r) {
				t.Errorf("renamed(%d-byte %.8q..., %d) = %.8q... (%d bytes)", len(name), name, n, r, len(r))
			}
		}
	}
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcdef.txt", 5, "a.txt"},
		{"ab.cdefg", 4, "ab.c"},
	} {
		if got := shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestDuplicateLongNames: two files with the same 255-byte name made
// mostly of extension load, and the second is renamed.
func TestDuplicateLongNames(t *testing.T) {
	name := "a." + strings.Repeat("x", maxElement-2)
	m, err := Parse(torrent(t, multiInfo(map[string]any{"path": []any{name}}, map[string]any{"path": []any{name}}), nil))
	if err != nil {
		t.Fatal(err)
	}
	l := m.Info.Layout()
	p0, p1 := l.Files[0].Path[1], l.Files[1].Path[1]
	if p0 != name || p1 == name || len(p1) > maxElement {
		t.Errorf("paths %.8q... and %.8q... (%d bytes)", p0, p1, len(p1))
	}
}
