package bt

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestStateWriterForget: a file forgotten while writes of it are queued or
// being written is not there afterwards, and every other write lands.
func TestStateWriterForget(t *testing.T) {
	dir := t.TempDir()
	var w stateWriter
	var wg sync.WaitGroup
	for i := range 200 {
		path := filepath.Join(dir, fmt.Sprintf("f%d", i))
		wg.Add(1)
		w.write(path, []byte("x"), func(error) { wg.Done() })
		if i%2 == 1 {
			w.forget(path)
			os.Remove(path)
		}
	}
	wg.Wait()
	w.wait()
	for i := range 200 {
		_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("f%d", i)))
		if i%2 == 1 && err == nil {
			t.Errorf("f%d was forgotten but written", i)
		}
		if i%2 == 0 && err != nil {
			t.Errorf("f%d: %v", i, err)
		}
	}
}
