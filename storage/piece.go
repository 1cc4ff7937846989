package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// WritePiece writes the whole of piece i, which the caller has verified.
// len(data) must be the piece's size.
func (s *Store) WritePiece(i int, data []byte) error {
	if err := s.checkPiece(i); err != nil {
		return err
	}
	if int64(len(data)) != s.PieceSize(i) {
		return fmt.Errorf("storage: piece %d: got %d bytes, want %d", i, len(data), s.PieceSize(i))
	}
	_, err := s.WriteAt(data, int64(i)*s.pieceLength)
	return err
}

// ReadBlock reads len(p) bytes of piece i starting at begin, as a peer's
// request asks. The block must lie within the piece.
func (s *Store) ReadBlock(i int, begin int64, p []byte) error {
	if err := s.checkPiece(i); err != nil {
		return err
	}
	if begin < 0 || begin+int64(len(p)) > s.PieceSize(i) {
		return fmt.Errorf("storage: piece %d: block [%d, %d) outside the piece of %d bytes", i, begin, begin+int64(len(p)), s.PieceSize(i))
	}
	_, err := s.ReadAt(p, int64(i)*s.pieceLength+begin)
	return err
}

// ReadPiece reads piece i into p, which must hold PieceSize(i) bytes, and
// returns the piece's bytes (p resliced).
func (s *Store) ReadPiece(i int, p []byte) ([]byte, error) {
	if err := s.checkPiece(i); err != nil {
		return nil, err
	}
	n := s.PieceSize(i)
	if int64(cap(p)) < n {
		return nil, fmt.Errorf("storage: piece %d: buffer of %d bytes, want %d", i, cap(p), n)
	}
	p = p[:n]
	_, err := s.ReadAt(p, int64(i)*s.pieceLength)
	return p, err
}

func (s *Store) checkPiece(i int) error {
	if i < 0 || i >= s.numPieces {
		return fmt.Errorf("storage: piece %d out of range [0, %d)", i, s.numPieces)
	}
	return nil
}

// bufPool holds piece buffers of the Store's piece length.
var bufPool sync.Pool

func (s *Store) getBuf() []byte {
	if b, ok := bufPool.Get().(*[]byte); ok && int64(cap(*b)) >= s.pieceLength {
		return (*b)[:s.pieceLength]
	}
	return make([]byte, s.pieceLength)
}

func putBuf(b []byte) { bufPool.Put(&b) }

// VerifyPiece reads piece i and compares its SHA-1 with the piece hash. A
// piece that is not on disk (ErrNotPresent) is reported as false with a nil
// error; other errors are returned.
func (s *Store) VerifyPiece(i int) (bool, error) {
	buf := s.getBuf()
	defer putBuf(buf)
	p, err := s.ReadPiece(i, buf)
	if err != nil {
		if errors.Is(err, ErrNotPresent) {
			return false, nil
		}
		return false, err
	}
	return s.hashOK(i, p), nil
}

func (s *Store) hashOK(i int, p []byte) bool {
	sum := sha1.Sum(p)
	want := s.hashes(i)
	return bytes.Equal(sum[:], want[:])
}

// checkMemory bounds the piece buffers of one Check.
const checkMemory = 256 << 20

// Check hash-checks pieces (all of them when pieces is nil) and calls fn with
// each result, from the calling goroutine, in no particular order. One
// goroutine reads the pieces in ascending order, so each file is read
// sequentially, while one hashing goroutine per core checks them. Missing
// data counts as a failed piece; any other storage error (see Fatal), or
// ctx's cancellation, ends the check and is returned. Cached file handles
// are dropped first, so the check sees the files as they are on disk now.
func (s *Store) Check(ctx context.Context, pieces []int, fn func(i int, ok bool)) error {
	if pieces == nil {
		pieces = make([]int, s.numPieces)
		for i := range pieces {
			pieces[i] = i
		}
	} else {
		pieces = slices.Clone(pieces)
		slices.Sort(pieces)
		pieces = slices.Compact(pieces)
		for _, i := range pieces {
			if err := s.checkPiece(i); err != nil {
				return err
			}
		}
	}
	s.pool.drop(-1)

	type job struct {
		i   int
		buf []byte // nil when the data is not present
	}
	type result struct {
		i  int
		ok bool
	}
	// One hasher per core, with the buffers in flight bounded to about
	// checkMemory bytes however large the pieces.
	workers := max(1, min(runtime.GOMAXPROCS(0), int(checkMemory/s.pieceLength)-2))
	g, ctx := errgroup.WithContext(ctx)
	jobs := make(chan job, workers)
	results := make(chan result, workers)
	free := make(chan []byte, workers+2)
	for range cap(free) {
		free <- make([]byte, s.pieceLength)
	}
	g.Go(func() error {
		defer close(jobs)
		for _, i := range pieces {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			p, err := s.ReadPiece(i, buf)
			if errors.Is(err, ErrNotPresent) {
				free <- buf
				p = nil
			} else if err != nil {
				return err
			}
			select {
			case jobs <- job{i, p}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	var hashers sync.WaitGroup
	for range workers {
		hashers.Add(1)
		g.Go(func() error {
			defer hashers.Done()
			for j := range jobs {
				ok := j.buf != nil && s.hashOK(j.i, j.buf)
				if j.buf != nil {
					free <- j.buf[:cap(j.buf)]
				}
				select {
				case results <- result{j.i, ok}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		hashers.Wait()
		close(results)
	}()
	for r := range results {
		fn(r.i, r.ok)
	}
	return g.Wait()
}
