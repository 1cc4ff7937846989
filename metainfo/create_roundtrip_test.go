package metainfo

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCreateNeedsNoRoundTrip: what Create returns is exactly what parsing
// its marshalled form gives, so callers need not marshal and parse again.
func TestCreateNeedsNoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a.bin": 70_000, "sub/b.txt": 1_000, "sub/empty": 0} {
		p := filepath.Join(dir, "tree", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{filepath.Join(dir, "tree"), filepath.Join(dir, "tree", "a.bin")} {
		mi, err := Create(context.Background(), path, CreateOptions{PieceLength: 16 << 10,
			Trackers: [][]string{{"http://127.0.0.1/announce"}}, Comment: "c"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mi.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(parsed, mi, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
			t.Errorf("%s: Create differs from Parse(Marshal(Create)) (-parsed +created):\n%s", path, diff)
		}
	}
}
