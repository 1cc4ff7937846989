package resume

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFiles writes batches small and large (one sync for the whole
// batch) and one with a file that cannot be written: the others are
// written, no temporary file is left.
func TestWriteFiles(t *testing.T) {
	for _, n := range []int{1, batchSyncfs + 3} {
		dir := t.TempDir()
		var files []PendingFile
		for i := range n {
			files = append(files, PendingFile{Name: filepath.Join(dir, fmt.Sprintf("f%d", i)), Data: fmt.Appendf(nil, "data %d", i), Perm: 0o600})
		}
		files = append(files, PendingFile{Name: filepath.Join(dir, "missing", "x"), Data: []byte("x"), Perm: 0o600})
		errs := WriteFiles(files)
		for i, f := range files[:n] {
			if errs[i] != nil {
				t.Fatalf("%s: %v", f.Name, errs[i])
			}
			got, err := os.ReadFile(f.Name)
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Fatalf("%s: %q, %v", f.Name, got, err)
			}
			if fi, _ := os.Stat(f.Name); fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v", f.Name, fi.Mode())
			}
		}
		if errs[n] == nil {
			t.Fatal("a file in a missing directory was written")
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != n {
			t.Fatalf("%d entries in the directory, want %d", len(ents), n)
		}
	}
}
