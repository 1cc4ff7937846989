// Package krpc encodes and decodes the KRPC messages of the BitTorrent DHT
// (BEP 5, with the BEP 32, 42 and 43 additions).
//
// It is a small special-purpose codec rather than a use of package bencode:
// a DHT node parses every datagram the Internet sends it, so the decoder reads
// only the fixed KRPC shape, straight into a struct, without reflection or
// intermediate maps. Every string it keeps is bounded (transaction ids, tokens,
// method names), every nested value it skips is depth-limited, and the input
// is a single datagram, so the work and memory per message are bounded by the
// datagram's size. The encoder writes canonical bencode (keys sorted).
package krpc

import (
	"errors"
	"fmt"
	"strconv"
)

// maxDepth bounds the nesting of values skipped inside a message.
const maxDepth = 16

// SyntaxError reports malformed bencode or a KRPC field of the wrong shape.
type SyntaxError struct {
	Offset int    // byte offset in the datagram
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("krpc: %s at offset %d", e.Msg, e.Offset)
}

func syntaxErr(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

var errEOF = errors.New("unexpected end of message")

// readString reads a byte string at b[i:], returning it (aliasing b) and the
// offset just past it.
func readString(b []byte, i int) ([]byte, int, error) {
	start := i
	n := 0
	for {
		if i >= len(b) {
			return nil, 0, syntaxErr(start, "%v", errEOF)
		}
		c := b[i]
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return nil, 0, syntaxErr(i, "bad string length byte %q", c)
		}
		if i-start >= 7 { // no datagram holds a 10 MB string
			return nil, 0, syntaxErr(start, "string length too long")
		}
		if i > start && b[start] == '0' {
			return nil, 0, syntaxErr(start, "leading zero in string length")
		}
		n = n*10 + int(c-'0')
		i++
	}
	if i == start {
		return nil, 0, syntaxErr(start, "missing string length")
	}
	i++ // ':'
	if n > len(b)-i {
		return nil, 0, syntaxErr(start, "string of %d bytes overruns message", n)
	}
	return b[i : i+n], i + n, nil
}

// readInt reads an integer at b[i:] ('i' ... 'e').
func readInt(b []byte, i int) (int64, int, error) {
	start := i
	if i >= len(b) || b[i] != 'i' {
		return 0, 0, syntaxErr(i, "expected integer")
	}
	i++
	j := i
	for j < len(b) && b[j] != 'e' {
		if j-i > 20 {
			return 0, 0, syntaxErr(start, "integer too long")
		}
		j++
	}
	if j >= len(b) {
		return 0, 0, syntaxErr(start, "%v", errEOF)
	}
	digits := b[i:j]
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) ||
		(digits[0] == '-' && (len(digits) == 1 || digits[1] == '0')) {
		return 0, 0, syntaxErr(start, "malformed integer %q", digits)
	}
	v, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, 0, syntaxErr(start, "malformed integer %q", digits)
	}
	return v, j + 1, nil
}

// skipValue skips one value of any type at b[i:].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxErr(i, "%v", errEOF)
	}
	switch c := b[i]; {
	case c == 'i':
		_, next, err := readInt(b, i)
		return next, err
	case c >= '0' && c <= '9':
		_, next, err := readString(b, i)
		return next, err
	case c == 'l' || c == 'd':
		if depth >= maxDepth {
			return 0, syntaxErr(i, "nesting deeper than %d", maxDepth)
		}
		i++
		for {
			if i >= len(b) {
				return 0, syntaxErr(i, "%v", errEOF)
			}
			if b[i] == 'e' {
				return i + 1, nil
			}
			var err error
			if c == 'd' {
				if _, i, err = readString(b, i); err != nil {
					return 0, err
				}
			}
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
		}
	default:
		return 0, syntaxErr(i, "unexpected byte %q", c)
	}
}

// readDict calls f for each key of the dictionary at b[i:]; f reads the value
// starting at the given offset and returns the offset after it.
func readDict(b []byte, i int, f func(key []byte, at int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != 'd' {
		return 0, syntaxErr(i, "expected dictionary")
	}
	i++
	for {
		if i >= len(b) {
			return 0, syntaxErr(i, "%v", errEOF)
		}
		if b[i] == 'e' {
			return i + 1, nil
		}
		key, next, err := readString(b, i)
		if err != nil {
			return 0, err
		}
		if i, err = f(key, next); err != nil {
			return 0, err
		}
	}
}

// readList calls f for each element of the list at b[i:].
func readList(b []byte, i int, f func(at int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != 'l' {
		return 0, syntaxErr(i, "expected list")
	}
	i++
	for {
		if i >= len(b) {
			return 0, syntaxErr(i, "%v", errEOF)
		}
		if b[i] == 'e' {
			return i + 1, nil
		}
		var err error
		if i, err = f(i); err != nil {
			return 0, err
		}
	}
}

// Encoding helpers. Callers write dictionary keys in sorted order.

func appendBytes(dst, s []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	return append(dst, s...)
}

func appendStr(dst []byte, s string) []byte {
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	return append(dst, s...)
}

func appendInt(dst []byte, v int64) []byte {
	dst = append(dst, 'i')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, 'e')
}
