package metainfo

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxElement is the longest path element kept, in bytes: the limit of
// common file systems (ext4, NTFS in UTF-16 units is more lenient).
const maxElement = 255

// windowsRules says whether sanitizing also applies the rules Windows
// needs: reserved device names and characters Win32 forbids in names.
var windowsRules = runtime.GOOS == "windows"

// sanitizeElement returns the safe form of one path element, or "" when the
// element is to be dropped (empty, ".", ".." or only separators). See the
// package documentation for the policy.
func sanitizeElement(e string, windows bool) string {
	if strings.ContainsAny(e, `/\`) {
		e = strings.NewReplacer("/", "", `\`, "").Replace(e)
	}
	if e == "" || e == "." || e == ".." {
		return ""
	}
	if needsReplace(e, windows) {
		var b strings.Builder
		b.Grow(len(e))
		for i := 0; i < len(e); {
			r, size := utf8.DecodeRuneInString(e[i:])
			if (r == utf8.RuneError && size <= 1) || unsafeRune(r) || (windows && strings.ContainsRune(`<>:"|?*`, r)) {
				b.WriteByte('_')
			} else {
				b.WriteString(e[i : i+size])
			}
			i += size
		}
		e = b.String()
	}
	if windows {
		e = strings.TrimRight(e, ". ")
		if e == "" {
			return "_"
		}
		if base, ext, found := strings.Cut(e, "."); reservedWindows(base) {
			e = base + "_"
			if found {
				e += "." + ext
			}
		}
	}
	if len(e) > maxElement {
		e = shorten(e, maxElement)
	}
	return e
}

// needsReplace reports whether e contains a byte or rune sanitizeElement
// replaces, so the common case allocates nothing.
func needsReplace(e string, windows bool) bool {
	for i := 0; i < len(e); i++ {
		c := e[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			if c < 0x80 {
				return true
			}
			// Non-ASCII: check runes from here.
			for _, r := range e[i:] {
				if r == utf8.RuneError || unsafeRune(r) {
					return true
				}
			}
			break
		}
		if windows && strings.IndexByte(`<>:"|?*`, c) >= 0 {
			return true
		}
	}
	return windows && strings.ContainsAny(e, `<>:"|?*`)
}

// unsafeRune reports whether r is a control character or a bidirectional
// formatting character (which can make "txt.exe" display as "exe.txt").
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// reservedWindows reports whether base (the part of a name before its first
// dot) is a Windows device name.
func reservedWindows(base string) bool {
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 {
		u := strings.ToUpper(base[:3])
		if (u == "COM" || u == "LPT") && base[3] >= '0' && base[3] <= '9' {
			return true
		}
	}
	return false
}

// shorten cuts e to at most n bytes on a rune boundary, keeping a short
// extension.
func shorten(e string, n int) string {
	if len(e) <= n {
		return e
	}
	ext := ""
	if i := strings.LastIndexByte(e, '.'); i > 0 && len(e)-i <= 32 && len(e)-i < n {
		ext = e[i:]
	}
	stem := e[:len(e)-len(ext)]
	limit := n - len(ext)
	for limit > 0 && !utf8.RuneStart(stem[limit]) {
		limit--
	}
	return stem[:limit] + ext
}

// sanitizePath returns the safe relative elements for a file's path inside
// the torrent; an empty result becomes ["_"].
func sanitizePath(p []string, windows bool) []string {
	return appendSanitized(make([]string, 0, len(p)), p, windows)
}

// appendSanitized appends the safe elements of p to dst, or "_" if none.
func appendSanitized(dst, p []string, windows bool) []string {
	n := len(dst)
	for _, e := range p {
		if s := sanitizeElement(e, windows); s != "" {
			dst = append(dst, s)
		}
	}
	if len(dst) == n {
		dst = append(dst, "_")
	}
	return dst
}

// renamed returns name with ".n" inserted before its extension:
// "a.txt" → "a.1.txt", "a" → "a.1". The result is shortened to stay within
// maxElement bytes; when the extension is nearly all of a long name, the
// number goes at the end of the shortened name instead.
func renamed(name string, n int) string {
	suffix := "." + strconv.Itoa(n)
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	if over := len(stem) + len(suffix) + len(ext) - maxElement; over > 0 {
		if over >= len(stem) {
			return shorten(name, maxElement-len(suffix)) + suffix
		}
		stem = shorten(stem, len(stem)-over)
	}
	return stem + suffix + ext
}

// foldCase says whether file names are compared without regard to case
// when making paths unique: the default file systems of Windows and macOS
// are case-insensitive.
var foldCase = runtime.GOOS == "windows" || runtime.GOOS == "darwin"

// hasNUL reports whether any of the strings contains a NUL byte, which the
// path policy refuses outright.
func hasNUL(s ...string) bool {
	for _, e := range s {
		if strings.IndexByte(e, 0) >= 0 {
			return true
		}
	}
	return false
}

// checkPathSize refuses a path deeper than MaxPathDepth or longer than
// MaxPathLength under the download directory, counting each element as it
// will be shortened.
func checkPathSize(name string, p []string) error {
	if len(p) > MaxPathDepth {
		return fmt.Errorf("path has %d elements, more than %d", len(p), MaxPathDepth)
	}
	n := min(len(name), maxElement)
	for _, e := range p {
		n += 1 + min(len(e), maxElement)
	}
	if n > MaxPathLength {
		return fmt.Errorf("path is %d bytes long, more than %d", n, MaxPathLength)
	}
	return nil
}
