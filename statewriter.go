package bt

import (
	"sync"

	"github.com/bt-go/bt/resume"
)

// stateWriter batches the client's writes to the state directory: each
// file is written atomically as resume.WriteFile writes it, but all the
// files waiting when a batch starts share one sync (resume.WriteFiles).
// Adding thousands of torrents thus costs a few syncs, not two per
// torrent, and so does closing a client that saves every record. The
// writing goroutine runs only while there is something to write.
type stateWriter struct {
	mu      sync.Mutex
	pending map[string]*stateWrite
	order   []string
	running bool
	flushMu sync.Mutex // held while a batch is written
	wg      sync.WaitGroup
}

type stateWrite struct {
	data  []byte
	dones []func(error)
}

// write queues data for the file path; done, if not nil, receives the
// outcome. A later write of the same path replaces an earlier one still
// waiting (both dones hear the outcome).
func (w *stateWriter) write(path string, data []byte, done func(error)) {
	w.mu.Lock()
	if w.pending == nil {
		w.pending = make(map[string]*stateWrite)
	}
	p := w.pending[path]
	if p == nil {
		p = &stateWrite{}
		w.pending[path] = p
		w.order = append(w.order, path)
	}
	p.data = data
	if done != nil {
		p.dones = append(p.dones, done)
	}
	if !w.running {
		w.running = true
		w.wg.Add(1)
		go w.flush()
	}
	w.mu.Unlock()
}

// writeWait writes data to path and waits for the outcome.
func (w *stateWriter) writeWait(path string, data []byte) error {
	ch := make(chan error, 1)
	w.write(path, data, func(err error) { ch <- err })
	return <-ch
}

func (w *stateWriter) flush() {
	defer w.wg.Done()
	for {
		// A batch is taken with flushMu held, so that forget, which
		// waits for flushMu, never misses one taken but not yet written.
		w.flushMu.Lock()
		w.mu.Lock()
		if len(w.order) == 0 {
			w.running = false
			w.mu.Unlock()
			w.flushMu.Unlock()
			return
		}
		batch, order := w.pending, w.order
		w.pending, w.order = nil, nil
		w.mu.Unlock()
		files := make([]resume.PendingFile, len(order))
		for i, path := range order {
			files[i] = resume.PendingFile{Name: path, Data: batch[path].data, Perm: 0o600}
		}
		errs := resume.WriteFiles(files)
		w.flushMu.Unlock()
		for i, path := range order {
			for _, done := range batch[path].dones {
				done(errs[i])
			}
		}
	}
}

// forget drops the waiting writes of paths and waits for the batch being
// written, if any: nothing written afterwards brings the files back.
func (w *stateWriter) forget(paths ...string) {
	var dones []func(error)
	w.mu.Lock()
	for _, path := range paths {
		if p := w.pending[path]; p != nil {
			dones = append(dones, p.dones...)
			delete(w.pending, path)
			for i, q := range w.order {
				if q == path {
					w.order = append(w.order[:i], w.order[i+1:]...)
					break
				}
			}
		}
	}
	w.mu.Unlock()
	for _, done := range dones {
		done(nil) // as good as written, and removed
	}
	w.waitBatch()
}

// waitBatch waits for the batch being written, if any, and reports
// whether more are to come.
func (w *stateWriter) waitBatch() (more bool) {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.order) > 0
}

// wait waits until everything queued is written.
func (w *stateWriter) wait() { w.wg.Wait() }
