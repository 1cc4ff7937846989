// Package termtext makes text from the network or from a torrent safe to
// show on a terminal or write to a log.
//
// A tracker's failure reason, a magnet's display name, a file path inside a
// torrent and a client name taken from a peer id are all chosen by someone
// else. Printed raw, such text can carry ANSI escape sequences (moving the
// cursor, retitling the window, recolouring the screen), a BEL, a carriage
// return that overwrites the line, or a newline that starts a fake one.
// Safe escapes all of that, so every output path can print the result as
// it is:
//
//   - C0 controls, DEL and C1 controls are written as \n, \r, \t or \xNN;
//   - bytes that are not valid UTF-8 are written as \xNN;
//   - other non-printing runes (format characters such as the bidirectional
//     overrides that reorder a line, line and paragraph separators, private
//     use and unassigned code points) are written as \uXXXX or \UXXXXXXXX.
//
// Printable text, spaces and non-ASCII letters included, is left alone, and
// so is a backslash: the result is for reading, not for parsing back.
package termtext

import (
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe returns s with every character that could control a terminal, or
// hide or reorder text, escaped. It returns s itself when nothing needs
// escaping.
func Safe(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	if clean(s[i:]) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for j := i; j < len(s); {
		r, n := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, s[j])
		case printable(r):
			b.WriteString(s[j : j+n])
		default:
			writeRune(&b, r)
		}
		j += n
	}
	return b.String()
}

// Bytes is Safe for a byte slice (a raw name or message from the wire).
func Bytes(p []byte) string { return Safe(string(p)) }

// String is text to be shown or logged safely: its String and LogValue
// methods return Safe of it, so it can be handed to fmt or log/slog as is.
type String string

// String returns the text with control characters escaped.
func (s String) String() string { return Safe(string(s)) }

// LogValue makes slog log the escaped text.
func (s String) LogValue() slog.Value { return slog.StringValue(Safe(string(s))) }

// Attr is slog.String with the value made safe.
func Attr(key, value string) slog.Attr { return slog.String(key, Safe(value)) }

// clean reports whether s needs no escaping.
func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !printable(r) {
			// A literal U+FFFD is printable; recheck it the slow way.
			return false
		}
	}
	return true
}

// printable reports whether r may be shown as it is.
func printable(r rune) bool {
	switch {
	case r < 0x80:
		return r >= 0x20 && r < 0x7f
	case r == '\u200c', r == '\u200d':
		// Zero-width (non-)joiners: they join emoji and Indic scripts
		// and move nothing.
		return true
	case r == utf8.RuneError:
		return true
	}
	return unicode.IsPrint(r)
}

func writeRune(b *strings.Builder, r rune) {
	switch r {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		switch {
		case r < 0x100:
			writeHex(b, byte(r))
		case r <= 0xffff:
			b.WriteString(`\u`)
			writePadded(b, r, 4)
		default:
			b.WriteString(`\U`)
			writePadded(b, r, 8)
		}
	}
}

func writeHex(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	writePadded(b, rune(c), 2)
}

func writePadded(b *strings.Builder, r rune, width int) {
	h := strconv.FormatInt(int64(r), 16)
	for range width - len(h) {
		b.WriteByte('0')
	}
	b.WriteString(h)
}
