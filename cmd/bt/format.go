package main

import (
	"fmt"
	"strings"
	"time"
)

// One way to print each kind of quantity, in every command: sizes and rates
// in binary (IEC) units with one decimal, durations as "45s", "3m05s",
// "2h04m", "3d02h", counts with their noun agreeing.

// sizeString formats bytes with binary units: "512 B", "1.5 MiB".
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanSize is sizeString (bt create and bt info call it so).
func humanSize(n int64) string { return sizeString(n) }

// rateString formats bytes per second: "1.5 MiB/s".
func rateString(r float64) string { return sizeString(int64(r)) + "/s" }

// durationString formats a duration to the second, in at most two units.
func durationString(d time.Duration) string {
	d = d.Round(time.Second)
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}

// plural returns "1 peer", "2 peers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// width is the number of terminal columns s takes: wide (East Asian)
// characters take two, combining marks none.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r == 0x200B || r >= 0x0300 && r <= 0x036F || r >= 0xFE00 && r <= 0xFE0F:
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF && r != 0x303F,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x1F300 && r <= 0x1F64F, r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

// shorten fits s into n columns, putting "…" in the middle of a name that
// is too long (its start and its extension both tell which file it is).
func shorten(s string, n int) string {
	if width(s) <= n {
		return s
	}
	if n <= 1 {
		return strings.Repeat("…", max(n, 0))
	}
	rs := []rune(s)
	tail := (n - 1) / 3
	var end []rune
	w := 0
	for i := len(rs) - 1; i >= 0 && w+runeWidth(rs[i]) <= tail; i-- {
		w += runeWidth(rs[i])
		end = append([]rune{rs[i]}, end...)
	}
	var b strings.Builder
	head := n - 1 - w
	w = 0
	for _, r := range rs {
		if w+runeWidth(r) > head {
			break
		}
		w += runeWidth(r)
		b.WriteRune(r)
	}
	b.WriteString("…")
	b.WriteString(string(end))
	return b.String()
}
