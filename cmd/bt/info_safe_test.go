package main

import (
	"strings"
	"testing"
)

// TestInfoMagnetNameEscaped: a magnet's display name and trackers are
// printed with their control characters escaped, so a link cannot clear
// the screen, retitle the terminal or start a fake line.
func TestInfoMagnetNameEscaped(t *testing.T) {
	link := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567" +
		"&dn=movie%1b%5d0%3bpwned%07%1b%5b2J%0d%0aERROR%20fake" +
		"&tr=http%3a%2f%2ft.example%2fa%1b%5b31m"
	out, _, code := miRun(t, "info", link)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\a\r") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`movie\x1b]0;pwned\x07\x1b[2J\r\nERROR fake`, `http://t.example/a\x1b[31m`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
