// Package readlimit reads files that someone else could have written or
// swapped (a .torrent, a resume record, a saved routing table) without
// letting their size decide how much memory is used.
package readlimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is wrapped by File's error for a file larger than its limit.
var ErrTooLarge = errors.New("file too large")

// File reads the file name, of at most max bytes. A regular file whose
// size is over max is refused before anything is read; the read itself is
// bounded too, for a file that grows meanwhile or has no size (a pipe, a
// device). The buffer is sized from the file's size, so a file within the
// limit costs its own size in memory and no more.
func File(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	if size > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", name, ErrTooLarge, size, max)
	}
	var b bytes.Buffer
	b.Grow(int(size) + bytes.MinRead)
	if _, err := b.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(b.Len()) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	return b.Bytes(), nil
}
