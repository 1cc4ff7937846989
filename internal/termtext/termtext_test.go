package termtext

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"ubuntu-24.04.iso", "ubuntu-24.04.iso"},
		{"Déjà vu/日本語 ファイル.mkv", "Déjà vu/日本語 ファイル.mkv"},
		{`C:\dir\name`, `C:\dir\name`},
		{"\x1b[2J\x1b]0;pwned\a", `\x1b[2J\x1b]0;pwned\x07`},
		{"ok\r\nERROR fake line", `ok\r\nERROR fake line`},
		{"tab\there", `tab\there`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"8-bit CSI \x9b", `8-bit CSI \x9b`},
		{"rev\u202egnp.exe", `rev\u202egnp.exe`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"private \U000f0000", `private \U000f0000`},
		{"replacement \ufffd kept", "replacement \ufffd kept"},
		{"family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"},
		{"nul\x00", `nul\x00`},
	} {
		if got := Safe(c.in); got != c.want {
			t.Errorf("Safe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSafeNoControls checks the rule on every byte and on every rune of the
// Basic Multilingual Plane: nothing a terminal acts on survives.
func TestSafeNoControls(t *testing.T) {
	for c := 0; c < 256; c++ {
		checkInert(t, Safe(string([]byte{'a', byte(c), 'b'})))
	}
	for r := rune(0); r < 0x10000; r++ {
		checkInert(t, Safe("a"+string(r)+"b"))
	}
}

func checkInert(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x2028 && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Fatalf("control %U left in %q", r, s)
		}
	}
}

func TestSafeNoAllocWhenClean(t *testing.T) {
	s := "plain ascii name and ünïcödé"
	if n := testing.AllocsPerRun(100, func() { _ = Safe(s) }); n != 0 {
		t.Errorf("Safe of clean text allocates %v times", n)
	}
}

func TestSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("tracker failed", "reason", String("bye\x1b[31m"), Attr("name", "x\ny"))
	if strings.ContainsAny(buf.String()[:buf.Len()-1], "\x1b\n") {
		t.Errorf("control characters in log line %q", buf.String())
	}
	if got := fmt.Sprint(String("a\rb")); got != `a\rb` {
		t.Errorf("fmt of String = %q", got)
	}
}

func FuzzSafe(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\r\n")
	f.Add("\xff\u202e\U0010ffff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Safe(s)
		checkInert(t, out)
		if Safe(out) != out {
			t.Fatalf("Safe is not idempotent on %q", s)
		}
	})
}

func ExampleSafe() {
	reason := "torrent not registered\r\n\x1b[32mOK\x1b[0m all good"
	fmt.Println("tracker:", Safe(reason))
	// Output: tracker: torrent not registered\r\n\x1b[32mOK\x1b[0m all good
}
