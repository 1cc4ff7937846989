package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Automatic piece lengths: powers of two from MinAutoPieceLength to
// MaxAutoPieceLength, the smallest that gives at most targetPieces pieces
// (so more than 1,000 and at most 2,000 pieces for torrents from about 31 MiB
// to 32 GiB).
const (
	MinAutoPieceLength = 16 << 10
	MaxAutoPieceLength = 16 << 20
	targetPieces       = 2000
)

// PieceLengthFor returns the piece length Create picks for a torrent of
// total bytes.
func PieceLengthFor(total int64) int64 {
	pl := int64(MinAutoPieceLength)
	for pl < MaxAutoPieceLength && (total+pl-1)/pl > targetPieces {
		pl *= 2
	}
	return pl
}

// sourceFile is a file on disk that becomes part of a torrent.
type sourceFile struct {
	osPath string   // where to read it
	path   []string // its path inside the torrent (multi-file)
	size   int64
}

// ErrChanged reports a file that changed size while it was being hashed.
var ErrChanged = errors.New("metainfo: file changed while hashing")

// hashPieces reads files end to end and returns the concatenated SHA-1
// hashes of pieces of pieceLength bytes. Files are read sequentially by the
// calling goroutine; pieces are hashed by workers goroutines. progress, if
// not nil, is called on the calling goroutine with the bytes hashed so far.
func hashPieces(ctx context.Context, files []sourceFile, total, pieceLength int64, workers int, progress func(done, total int64)) ([]byte, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	numPieces := int((total + pieceLength - 1) / pieceLength)
	pieces := make([]byte, numPieces*sha1.Size)

	// Buffers in flight: two per worker, within about 256 MiB.
	nbuf := max(2, min(2*workers, int((256<<20)/pieceLength)))
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- nil // allocated on first use
	}
	type job struct {
		index int
		buf   []byte
	}
	jobs := make(chan job)
	var hashed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				sum := sha1.Sum(j.buf)
				copy(pieces[j.index*sha1.Size:], sum[:])
				hashed.Add(int64(len(j.buf)))
				free <- j.buf[:cap(j.buf)]
			}
		})
	}
	err := readPieces(ctx, files, pieceLength, free, func(index int, buf []byte) {
		jobs <- job{index, buf}
		if progress != nil {
			progress(hashed.Load(), total)
		}
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(total, total)
	}
	return pieces, nil
}

// readPieces reads the files as one stream cut into pieces, taking a buffer
// from free for each piece and handing it to emit.
func readPieces(ctx context.Context, files []sourceFile, pieceLength int64, free chan []byte, emit func(int, []byte)) error {
	var buf []byte
	index := 0
	next := func() error {
		select {
		case b := <-free:
			if b == nil {
				b = make([]byte, pieceLength)
			}
			buf = b[:0]
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := next(); err != nil {
		return err
	}
	for _, sf := range files {
		if sf.size == 0 {
			continue
		}
		f, err := os.Open(sf.osPath)
		if err != nil {
			return fmt.Errorf("metainfo: create: %w", err)
		}
		remaining := sf.size
		for remaining > 0 {
			if err := ctx.Err(); err != nil {
				f.Close()
				return err
			}
			n := min(remaining, pieceLength-int64(len(buf)))
			start := len(buf)
			buf = buf[:start+int(n)]
			if _, err := io.ReadFull(f, buf[start:]); err != nil {
				f.Close()
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					return fmt.Errorf("%w: %s is shorter than its %d bytes", ErrChanged, sf.osPath, sf.size)
				}
				return fmt.Errorf("metainfo: create: %w", err)
			}
			remaining -= n
			if int64(len(buf)) == pieceLength {
				emit(index, buf)
				index++
				if err := next(); err != nil {
					f.Close()
					return err
				}
			}
		}
		f.Close()
	}
	if len(buf) > 0 {
		emit(index, buf)
	}
	return nil
}
