package bencode

import (
	"bytes"
	"math"
	"strconv"
)

// DefaultMaxDepth is the default limit on nested lists and dicts. Decoding
// recurses once per level, and Go cannot recover from running out of stack,
// so hostile input must not choose the depth.
const DefaultMaxDepth = 100

// decodeState holds the input and position of one decoding run. Every
// decodeFunc is called with off < len(data): callers check for the end of
// the input before dispatching on the next byte.
type decodeState struct {
	data     []byte
	off      int
	depth    int
	maxDepth int
	strict   bool
	// stream is set by a streamScanner, which takes truncation as a sign to
	// read more rather than as an error.
	stream bool
	// typeErr is the first UnmarshalTypeError met; decoding carries on past
	// it (skipping the value) so that the rest of the value is still filled
	// in, and it is returned at the end.
	typeErr *UnmarshalTypeError
	// Chunks that decoded values are carved from (see alloc.go); they
	// belong to the values handed out and are never reused.
	arena     []byte
	byteArena []byte
	strSlab   []string
	anySlab   []any
	keys      [16]string // recent dict keys (see keyStr)
	// Scratch stacks for gathering list elements before their number is
	// known; reused across runs.
	anyStack []any
}

// init prepares d, fresh or from the pool, to decode data.
func (d *decodeState) init(data []byte) {
	d.data = data
	d.off = 0
	d.depth = 0
	d.typeErr = nil
	d.arena = nil
	d.byteArena = nil
	d.strSlab = nil
	d.anySlab = nil
	d.keys = [16]string{}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
}

func (d *decodeState) errorf(off int, msg string) error {
	return &SyntaxError{Offset: int64(off), Msg: msg}
}

// eof reports input that ends inside a value.
func (d *decodeState) eof() error {
	if d.stream {
		return errNeedMore
	}
	return &SyntaxError{Offset: int64(len(d.data)), Msg: "unexpected end of input", truncated: true}
}

// enter records one more level of nesting at d.off.
func (d *decodeState) enter() error {
	d.depth++
	if d.depth > d.maxDepth {
		return d.errorf(d.off, "nesting deeper than "+strconv.Itoa(d.maxDepth)+" levels")
	}
	return nil
}

func (d *decodeState) badValueStart() error {
	return d.errorf(d.off, "invalid character "+quoteByte(d.data[d.off])+" at start of value")
}

func quoteKey(key []byte) string {
	return strconv.Quote(string(key))
}

func quoteByte(c byte) string {
	return strconv.QuoteRune(rune(c))
}

// readInt parses an integer "i...e" starting at d.off (which holds 'i') and
// returns its sign and magnitude. overflow is set when the magnitude does not
// fit in 64 bits; the syntax is still checked and the integer consumed.
func (d *decodeState) readInt() (neg bool, mag uint64, overflow bool, err error) {
	data := d.data
	start := d.off
	i := start + 1
	if i < len(data) && data[i] == '-' {
		neg = true
		i++
	}
	first := i
	for ; i < len(data); i++ {
		c := data[i] - '0'
		if c > 9 {
			break
		}
		if mag > math.MaxUint64/10 || (mag == math.MaxUint64/10 && c > math.MaxUint64%10) {
			overflow = true
			continue
		}
		mag = mag*10 + uint64(c)
	}
	if i >= len(data) {
		return false, 0, false, d.eof()
	}
	if data[i] != 'e' {
		return false, 0, false, d.errorf(i, "invalid character "+quoteByte(data[i])+" in integer")
	}
	switch {
	case i == first:
		return false, 0, false, d.errorf(start, "integer has no digits")
	case data[first] == '0' && i-first > 1:
		return false, 0, false, d.errorf(first, "integer has a leading zero")
	case neg && data[first] == '0':
		return false, 0, false, d.errorf(start, "negative zero")
	}
	d.off = i + 1
	return neg, mag, overflow, nil
}

// readString parses a byte string "<len>:<bytes>" starting at d.off (which
// holds a digit) and returns the bytes, which alias the input.
func (d *decodeState) readString() ([]byte, error) {
	data := d.data
	start := d.off
	i := start
	n := 0
	for ; i < len(data); i++ {
		c := data[i] - '0'
		if c > 9 {
			break
		}
		if n > (math.MaxInt-9)/10 {
			// Far beyond any input; the real bound is the input itself.
			return nil, d.errorf(start, "string length too large")
		}
		n = n*10 + int(c)
	}
	if i >= len(data) {
		return nil, d.eof()
	}
	if data[i] != ':' {
		return nil, d.errorf(i, "invalid character "+quoteByte(data[i])+" in string length")
	}
	if data[start] == '0' && i-start > 1 {
		return nil, d.errorf(start, "string length has a leading zero")
	}
	i++
	if n > len(data)-i {
		return nil, d.eof()
	}
	d.off = i + n
	return data[i:d.off:d.off], nil
}

// checkKeyOrder enforces canonical key order in strict mode: each key must
// sort strictly after the previous one (which also rules out duplicates).
func (d *decodeState) checkKeyOrder(prev, key []byte, havePrev bool, keyOff int) error {
	if !havePrev {
		return nil
	}
	switch c := bytes.Compare(prev, key); {
	case c == 0:
		return d.errorf(keyOff, "duplicate dict key "+strconv.Quote(string(key)))
	case c > 0:
		return d.errorf(keyOff, "dict key "+strconv.Quote(string(key))+" out of order")
	}
	return nil
}

// skip consumes one value of any kind, checking its syntax (and, in strict
// mode, its canonical form) without storing it.
func (d *decodeState) skip() error {
	if d.off >= len(d.data) {
		return d.eof()
	}
	switch c := d.data[d.off]; {
	case c == 'i':
		_, _, _, err := d.readInt()
		return err
	case c >= '0' && c <= '9':
		_, err := d.readString()
		return err
	case c == 'l':
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		for {
			if d.off >= len(d.data) {
				return d.eof()
			}
			if d.data[d.off] == 'e' {
				d.off++
				d.depth--
				return nil
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case c == 'd':
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		var prev []byte
		for {
			_, done, err := d.nextKey(&prev)
			if err != nil {
				return err
			}
			if done {
				d.off++
				d.depth--
				return nil
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	default:
		return d.badValueStart()
	}
}

// nextKey reads the next key of a dict whose 'd' has been consumed, or
// reports done at its closing 'e' (left for the caller to consume). In
// strict mode it checks that the key sorts after *prev, the previous key of
// the dict (nil before the first), and records it there.
func (d *decodeState) nextKey(prev *[]byte) (key []byte, done bool, err error) {
	if d.off >= len(d.data) {
		return nil, false, d.eof()
	}
	if d.data[d.off] == 'e' {
		return nil, true, nil
	}
	keyOff := d.off
	key, err = d.key()
	if err != nil {
		return nil, false, err
	}
	if d.strict {
		if err := d.checkKeyOrder(*prev, key, *prev != nil, keyOff); err != nil {
			return nil, false, err
		}
		*prev = key
	}
	return key, false, nil
}

// key reads a dict key at d.off, which must be a byte string, and checks
// that a value follows.
func (d *decodeState) key() ([]byte, error) {
	if c := d.data[d.off]; c < '0' || c > '9' {
		return nil, d.errorf(d.off, "dict key is not a string")
	}
	key, err := d.readString()
	if err != nil {
		return nil, err
	}
	if d.off >= len(d.data) {
		return nil, d.eof()
	}
	if d.data[d.off] == 'e' {
		return nil, d.errorf(d.off, "dict key "+quoteKey(key)+" has no value")
	}
	return key, nil
}

// kindName names the kind of bencode value starting with c, for errors.
func kindName(c byte) string {
	switch {
	case c == 'i':
		return "integer"
	case c == 'l':
		return "list"
	case c == 'd':
		return "dict"
	default:
		return "string"
	}
}
