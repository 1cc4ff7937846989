package bt

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestResumeSpeed measures how long a large torrent takes to be ready
// with its resume record, against a full recheck. It writes
// BT_RESUME_BENCH_SIZE bytes (default 2 GiB) of data, so it runs only
// when BT_RESUME_BENCH is set:
//
//	BT_RESUME_BENCH=1 go test -run TestResumeSpeed -v .
func TestResumeSpeed(t *testing.T) {
	if os.Getenv("BT_RESUME_BENCH") == "" {
		t.Skip("set BT_RESUME_BENCH=1 to measure resume against a full recheck (writes 2 GiB)")
	}
	size := int64(2 << 30)
	if s := os.Getenv("BT_RESUME_BENCH_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		size = n
	}
	const files, pieceLen = 8, 256 << 10
	dir := t.TempDir()
	root := filepath.Join(dir, "data", "big")
	os.MkdirAll(root, 0o755)
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 4<<20)
	start := time.Now()
	for i := range files {
		f, err := os.Create(filepath.Join(root, "f"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		for n := int64(0); n < size/files; n += int64(len(buf)) {
			rng.Read(buf)
			if _, err := f.Write(buf[:min(int64(len(buf)), size/files-n)]); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	t.Logf("wrote %d MiB in %v", size>>20, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	mi := makeTorrent(t, root, pieceLen)
	t.Logf("made the torrent (%d pieces) in %v", mi.Info.NumPieces(), time.Since(start).Round(time.Millisecond))
	f := &resumeFixture{mi: mi, dir: filepath.Join(dir, "data"), state: filepath.Join(dir, "state")}

	ready := func(what string) time.Duration {
		start := time.Now()
		c, tor, _ := f.start(t)
		d := time.Since(start)
		if !tor.Seeding() {
			t.Fatalf("%s: not seeding: %d of %d pieces", what, tor.Bitfield().Count(), mi.Info.NumPieces())
		}
		c.Close()
		return d
	}
	cold := func(what string) time.Duration {
		if err := dropCache(root); err != nil {
			t.Logf("%s: page cache not dropped: %v", what, err)
		}
		return ready(what)
	}
	record := filepath.Join(f.state, mi.InfoHash.String()+".resume")
	fullCold := cold("full check, cold")
	os.Remove(record)
	full := ready("full check")
	resumedCold := cold("resume, cold")
	resumed := ready("resume")
	path := filepath.Join(root, "f3")
	os.Chtimes(path, time.Now(), time.Now().Add(time.Minute))
	oneFile := cold("one file changed")
	mbps := func(d time.Duration, bytes int64) float64 { return float64(bytes) / d.Seconds() / (1 << 20) }
	t.Logf("%d MiB, %d pieces of %d KiB, %d files; time from Add to ready:", size>>20, mi.Info.NumPieces(), pieceLen>>10, files)
	t.Logf("  full recheck, cold cache:    %10v  (%.0f MiB/s)", fullCold.Round(time.Millisecond), mbps(fullCold, size))
	t.Logf("  full recheck, warm cache:    %10v  (%.0f MiB/s)", full.Round(time.Millisecond), mbps(full, size))
	t.Logf("  resume, cold cache:          %10v", resumedCold.Round(time.Microsecond))
	t.Logf("  resume, warm cache:          %10v", resumed.Round(time.Microsecond))
	t.Logf("  resume, 1 file changed, cold:%10v  (1/%d of the data checked)", oneFile.Round(time.Millisecond), files)
	t.Logf("  resume is %.0fx faster than the cold recheck", fullCold.Seconds()/resumedCold.Seconds())
}
