package bencode

import "errors"

// errNeedMore reports that a streamScanner reached the end of the bytes it
// has in the middle of a value.
var errNeedMore = errors.New("bencode: need more input")

// A streamScanner finds where one value ends in a buffer that grows as a
// stream is read. It keeps its place between calls, so that a value
// arriving in many small reads is scanned once overall rather than again
// from its start after every read; only a token cut in two (a string
// header or an integer) is looked at again. Offsets are relative to the
// start of the value.
type streamScanner struct {
	off   int         // next byte to examine
	stack []scanFrame // open lists and dicts, innermost last
}

type scanFrame struct {
	dict     bool
	wantKey  bool // in a dict: the next item is a key (or the end)
	havePrev bool
	prevKey  [2]int // the previous key's bytes, for strict mode
}

func (s *streamScanner) reset() {
	s.off = 0
	s.stack = s.stack[:0]
}

// scan continues scanning data, which holds the value's bytes so far (and
// perhaps more), and returns the length of the value once it is complete,
// errNeedMore if data ends first, or a *SyntaxError.
func (s *streamScanner) scan(data []byte, strict bool, maxDepth int) (int, error) {
	d := decodeState{data: data, strict: strict, maxDepth: maxDepth, stream: true}
	for {
		if s.off >= len(data) {
			return 0, errNeedMore
		}
		d.off = s.off
		c := data[s.off]
		var top *scanFrame
		if n := len(s.stack); n > 0 {
			top = &s.stack[n-1]
		}
		switch {
		case top != nil && c == 'e' && (!top.dict || top.wantKey):
			s.stack = s.stack[:len(s.stack)-1]
			s.off++
			if len(s.stack) == 0 {
				return s.off, nil
			}
			s.valueDone()
			continue
		case top != nil && top.dict && top.wantKey:
			if c-'0' > 9 {
				return 0, d.errorf(s.off, "dict key is not a string")
			}
			key, err := d.readString()
			if err != nil {
				return 0, err
			}
			if strict {
				prev := data[top.prevKey[0]:top.prevKey[1]]
				if err := d.checkKeyOrder(prev, key, top.havePrev, s.off); err != nil {
					return 0, err
				}
			}
			top.prevKey = [2]int{d.off - len(key), d.off}
			top.havePrev = true
			top.wantKey = false
			s.off = d.off
			continue
		case top != nil && top.dict && c == 'e':
			key := data[top.prevKey[0]:top.prevKey[1]]
			return 0, d.errorf(s.off, "dict key "+quoteKey(key)+" has no value")
		}
		switch {
		case c == 'i':
			if _, _, _, err := d.readInt(); err != nil {
				return 0, err
			}
		case c-'0' <= 9:
			if _, err := d.readString(); err != nil {
				return 0, err
			}
		case c == 'l' || c == 'd':
			if len(s.stack) >= maxDepth {
				d.depth = maxDepth
				return 0, d.enter()
			}
			s.stack = append(s.stack, scanFrame{dict: c == 'd', wantKey: true})
			s.off++
			continue
		default:
			return 0, d.badValueStart()
		}
		s.off = d.off
		if len(s.stack) == 0 {
			return s.off, nil
		}
		s.valueDone()
	}
}

// valueDone records that the innermost container got a whole value.
func (s *streamScanner) valueDone() {
	if top := &s.stack[len(s.stack)-1]; top.dict {
		top.wantKey = true
	}
}
