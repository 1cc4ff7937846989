package bencode

import (
	"io"
)

// A Decoder reads and decodes bencoded values from an input stream, one
// after another. It reads only what it needs to find the end of each value,
// buffering the rest for the next call; it never allocates for a string
// length it has not yet received.
type Decoder struct {
	r        io.Reader
	buf      []byte
	start    int // first unconsumed byte of buf
	err      error
	strict   bool
	maxDepth int
	maxSize  int
	consumed int64 // bytes of the stream before buf[start]
	empty    int   // consecutive reads that returned nothing
	scan     streamScanner
	d        decodeState
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r}
}

// Strict makes the Decoder reject values that are not in canonical form
// (see UnmarshalStrict).
func (dec *Decoder) Strict() { dec.strict = true }

// SetMaxDepth sets the limit on nested lists and dicts (DefaultMaxDepth if
// n <= 0).
func (dec *Decoder) SetMaxDepth(n int) { dec.maxDepth = n }

// SetMaxSize limits the encoded size of one value to n bytes (no limit if
// n <= 0). A larger value gives a *SyntaxError without reading further.
func (dec *Decoder) SetMaxSize(n int) { dec.maxSize = n }

// Buffered returns the bytes read from the input but not yet decoded.
func (dec *Decoder) Buffered() []byte { return dec.buf[dec.start:] }

// Decode reads the next value from the input and stores it in v. At the
// end of the input it returns io.EOF; if the input ends inside a value the
// error wraps io.ErrUnexpectedEOF. Offsets in errors count from the start
// of the stream.
func (dec *Decoder) Decode(v any) error {
	n, err := dec.next()
	if err != nil {
		return dec.streamError(err)
	}
	d := &dec.d
	d.maxDepth = dec.maxDepth
	d.strict = dec.strict
	d.init(dec.buf[dec.start : dec.start+n])
	err = d.unmarshalAll(v)
	dec.start += n
	if err != nil {
		err = dec.streamError(err)
	}
	dec.consumed += int64(n)
	d.init(nil)
	return err
}

// streamError turns offsets within the current value into offsets within
// the stream.
func (dec *Decoder) streamError(err error) error {
	switch e := err.(type) {
	case *SyntaxError:
		e.Offset += dec.consumed
	case *UnmarshalTypeError:
		e.Offset += dec.consumed
	}
	return err
}

// next makes sure one whole value sits at the front of the buffer and
// returns its length.
func (dec *Decoder) next() (int, error) {
	dec.scan.reset()
	maxDepth := dec.maxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	for {
		avail := dec.buf[dec.start:]
		if len(avail) > 0 {
			n, err := dec.scan.scan(avail, dec.strict, maxDepth)
			if err == nil {
				return n, nil
			}
			if err != errNeedMore {
				return 0, err
			}
			if dec.maxSize > 0 && len(avail) >= dec.maxSize {
				return 0, &SyntaxError{Offset: int64(dec.maxSize), Msg: "value larger than the size limit"}
			}
		}
		if dec.err != nil {
			if dec.err == io.EOF && len(avail) > 0 {
				return 0, &SyntaxError{Offset: int64(len(avail)), Msg: "unexpected end of input", truncated: true}
			}
			return 0, dec.err
		}
		dec.fill()
	}
}

// fill reads more input. The unread bytes move to the front of the buffer
// once the consumed part is the larger, and the buffer doubles when it is
// nearly full of unread bytes, so each byte is copied a bounded number of
// times.
func (dec *Decoder) fill() {
	if dec.start > 0 && len(dec.buf)-dec.start <= dec.start {
		n := copy(dec.buf, dec.buf[dec.start:])
		dec.buf = dec.buf[:n]
		dec.start = 0
	}
	if cap(dec.buf)-len(dec.buf) < 512 {
		nb := make([]byte, len(dec.buf)-dec.start, max(4096, 2*cap(dec.buf)))
		copy(nb, dec.buf[dec.start:])
		dec.buf = nb
		dec.start = 0
	}
	n, err := dec.r.Read(dec.buf[len(dec.buf):cap(dec.buf)])
	dec.buf = dec.buf[:len(dec.buf)+n]
	switch {
	case err != nil:
		dec.err = err
	case n > 0:
		dec.empty = 0
	default:
		// As bufio does, give up on a reader that keeps returning nothing.
		if dec.empty++; dec.empty >= 100 {
			dec.err = io.ErrNoProgress
		}
	}
}

// An Encoder writes bencoded values to an output stream.
type Encoder struct {
	w io.Writer
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w}
}

// Encode writes the bencoding of v to the stream, in one Write call.
func (enc *Encoder) Encode(v any) error {
	e := getEncodeState()
	defer putEncodeState(e)
	if err := e.marshal(v); err != nil {
		return err
	}
	_, err := enc.w.Write(e.buf)
	return err
}
