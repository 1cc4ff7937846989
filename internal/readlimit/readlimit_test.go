package readlimit

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o600)
	if b, err := File(small, 5); err != nil || string(b) != "hello" {
		t.Fatalf("File = %q, %v", b, err)
	}
	if _, err := File(small, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := File(filepath.Join(dir, "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

// TestHugeFileNotRead: a sparse file of 1 GiB is refused without reading
// it, and a device with no size is read only up to the limit.
func TestHugeFileNotRead(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := File(big, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1 GiB file: %v", err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<16 {
		t.Errorf("refusing a large file allocated %d bytes", grew)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := File("/dev/zero", 1<<20); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("/dev/zero: %v", err)
		}
	}
}
