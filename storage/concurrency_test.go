package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrent writes, reads, verifies, syncs, drops handles and changes
// priorities from many goroutines at once with a tiny handle pool; run it
// with -race.
func TestConcurrent(t *testing.T) {
	var files []fspec
	for i := range 12 {
		files = append(files, fspec{path: fmt.Sprintf("t/d%d/f%d", i%3, i), length: int64(700 + 97*i)})
	}
	l := makeLayout(256, files...)
	data, hashes := torrentData(t, l, 12)
	dir := t.TempDir()
	s := mustOpen(t, dir, l, hashes, Options{MaxOpenFiles: 3})

	const writers = 6
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < l.NumPieces; i += writers {
				if err := s.WritePiece(i, piece(l, data, i)); err != nil {
					errc <- err
					return
				}
				// Read back blocks of pieces written so far.
				for j := w; j <= i; j += writers {
					p := make([]byte, s.PieceSize(j))
					if err := s.ReadBlock(j, 0, p); err != nil {
						errc <- err
						return
					}
					if !bytes.Equal(p, piece(l, data, j)) {
						errc <- fmt.Errorf("piece %d differs", j)
						return
					}
				}
				if ok, err := s.VerifyPiece(i); !ok || err != nil {
					errc <- fmt.Errorf("VerifyPiece(%d) = %v, %v", i, ok, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := s.Sync(); err != nil {
				errc <- err
				return
			}
			s.DropHandles()
		}
	})
	wg.Go(func() {
		// Priority changes of files that are being written: raising a
		// priority that is already positive is a no-op for storage.
		for k := range 50 {
			if err := s.SetFilePriority(k%len(files), 1+k%3); err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Go(func() {
		// A concurrent check sees pieces as they land; missing data is
		// not an error.
		if err := s.Check(context.Background(), nil, func(int, bool) {}); err != nil {
			errc <- err
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n := s.pool.numOpen(); n > 3 {
		t.Errorf("%d handles open, want at most 3", n)
	}
	must(t, s.Sync())
	checkAll(t, s, l, data)
	checkDisk(t, dir, l, data)
}

// TestConcurrentPartMove raises a skipped file's priority while other
// goroutines write and read the pieces it shares.
func TestConcurrentPartMove(t *testing.T) {
	for round := range 5 {
		l := partLayout()
		data, hashes := torrentData(t, l, uint64(round))
		s := mustOpen(t, t.TempDir(), l, hashes, Options{FilePriorities: []int{1, 0, 1}})
		var wg sync.WaitGroup
		errc := make(chan error, 10)
		for _, i := range wantedPieces {
			wg.Go(func() {
				if err := s.WritePiece(i, piece(l, data, i)); err != nil {
					errc <- err
					return
				}
				if ok, err := s.VerifyPiece(i); !ok || err != nil {
					errc <- fmt.Errorf("VerifyPiece(%d) = %v, %v", i, ok, err)
				}
			})
		}
		wg.Go(func() {
			if err := s.SetFilePriority(1, 1); err != nil {
				errc <- err
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		verify(t, s, wantedPieces, true)
		must(t, s.Close())
	}
}

// TestCheckCancel cancels a check midway: it returns the context's error
// and leaves no goroutine behind (goleak checks in TestMain).
func TestCheckCancel(t *testing.T) {
	l := makeLayout(1<<10, fspec{path: "a", length: 1 << 20})
	data, hashes := torrentData(t, l, 13)
	s := mustOpen(t, t.TempDir(), l, hashes, Options{})
	_, err := s.WriteAt(data, 0)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = s.Check(ctx, nil, func(i int, ok bool) {
		if n++; n == 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Check = %v after %d pieces; want context.Canceled", err, n)
	}
}

// TestCloseDuringIO closes the store while goroutines read and write: each
// call succeeds or fails with ErrClosed, and nothing panics or leaks.
func TestCloseDuringIO(t *testing.T) {
	l := makeLayout(128, fspec{path: "t/a", length: 1000}, fspec{path: "t/b", length: 1000})
	data, hashes := torrentData(t, l, 17)
	s, err := Open(t.TempDir(), l, hashes, Options{MaxOpenFiles: 1})
	must(t, err)
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for k := range 200 {
				i := (w + k) % l.NumPieces
				var err error
				if k%2 == 0 {
					err = s.WritePiece(i, piece(l, data, i))
				} else {
					err = s.ReadBlock(i, 0, make([]byte, 16))
				}
				if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotPresent) {
					errc <- err
					return
				}
			}
		})
	}
	must(t, s.Close())
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := s.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close = %v; want ErrClosed", err)
	}
}
