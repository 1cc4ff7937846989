package dht

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
	"github.com/bt-go/bt/internal/waitfor"
)

// TestStateFile: a node saves its routing table on Close and, restarted
// with no bootstrap nodes, keeps its id and rejoins through the saved nodes.
func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dht.state")
	peer := newTestServer(t, Config{})
	a, err := New(Config{Addr: "127.0.0.1:0", StateFile: path, Bootstrap: []string{peer.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 5*time.Second, "a to learn its bootstrap node", func() bool { return hasNode(a, peer.Addr()) })
	id := a.ID()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := newTestServer(t, Config{StateFile: path})
	if b.ID() != id {
		t.Errorf("restarted with id %v, saved %v", b.ID(), id)
	}
	waitfor.Cond(t, 5*time.Second, "the restarted node to rejoin through saved nodes", func() bool { return hasNode(b, peer.Addr()) })
}

func TestStateFileValidation(t *testing.T) {
	good := []byte(stateMagic)
	id := RandomID()
	good = append(good, id[:]...)
	good = append(good, 0, 2)
	good = krpc.AppendNodes(good, []krpc.NodeInfo{
		{ID: RandomID(), Addr: netip.MustParseAddrPort("127.0.0.1:1")},
		{ID: RandomID(), Addr: netip.MustParseAddrPort("0.0.0.0:1")}, // invalid: dropped
	})
	good = append(good, 0, 0)
	st, err := parseState(good)
	if err != nil || st.id != id || len(st.nodes) != 1 {
		t.Fatalf("parseState = %+v, %v", st, err)
	}
	bad := map[string][]byte{
		"empty":      nil,
		"magic":      append([]byte("XXXXXX\n"), good[7:]...),
		"truncated":  good[:len(good)-1],
		"trailing":   append(append([]byte{}, good...), 0),
		"huge count": append(append(append([]byte(stateMagic), id[:]...), 0xff, 0xff), make([]byte, 100)...),
	}
	for name, b := range bad {
		if _, err := parseState(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A corrupt file is ignored: the node starts with a fresh id.
	path := filepath.Join(t.TempDir(), "dht.state")
	os.WriteFile(path, []byte("garbage"), 0o644)
	s := newTestServer(t, Config{StateFile: path})
	if s.ID() == (ID{}) {
		t.Error("zero id")
	}
}

// TestStateFileLogs: a missing state file (the first start) is silent; a
// corrupt one is worth a warning.
func TestStateFileLogs(t *testing.T) {
	dir := t.TempDir()
	warnings := func(path string) []string {
		t.Helper()
		h := &recordHandler{}
		newTestServer(t, Config{StateFile: path, Logger: slog.New(h)})
		return h.warnings()
	}
	if w := warnings(filepath.Join(dir, "missing.state")); len(w) != 0 {
		t.Errorf("missing state file: warnings %q, want none", w)
	}
	corrupt := filepath.Join(dir, "corrupt.state")
	if err := os.WriteFile(corrupt, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w := warnings(corrupt); len(w) != 1 {
		t.Errorf("corrupt state file: warnings %q, want one", w)
	}
}

// recordHandler keeps the messages of the records at warning level or above.
type recordHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		h.msgs = append(h.msgs, r.Message)
		h.mu.Unlock()
	}
	return nil
}

func (h *recordHandler) warnings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}
