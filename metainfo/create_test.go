package metainfo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pattern returns n bytes that differ from piece to piece.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/997) ^ seed
	}
	return b
}

func TestCreateMultiFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "album")
	// Written out of order: Create sorts by path, element by element.
	files := map[string][]byte{
		"z.bin":        pattern(40_000, 1),
		"a/b.bin":      pattern(30_001, 2),
		"a.bin":        pattern(5, 3),
		"a/empty":      nil,
		".hidden":      pattern(100, 4),
		"a/c/deep.txt": pattern(16384, 5),
	}
	for p, d := range files {
		writeFile(t, filepath.Join(root, p), d)
	}
	order := []string{".hidden", "a/b.bin", "a/c/deep.txt", "a/empty", "a.bin", "z.bin"}
	var stream []byte
	for _, p := range order {
		stream = append(stream, files[p]...)
	}
	var calls []int64
	when := time.Unix(1_700_000_000, 0)
	m, err := Create(context.Background(), root, CreateOptions{
		PieceLength: 16384, Workers: 3,
		Trackers: [][]string{{"http://a/announce", " "}, {}, {"udp://b:1", "udp://c:2"}},
		WebSeeds: []string{"http://web/"}, Private: true, Comment: "c", Source: "SRC",
		CreationDate: when,
		Progress:     func(done, total int64) { calls = append(calls, done) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Info.Files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	if strings.Join(got, " ") != strings.Join(order, " ") {
		t.Fatalf("file order %q, want %q", got, order)
	}
	if m.Info.Name != "album" || !m.Info.Private || m.Info.Source != "SRC" || m.Info.TotalLength() != int64(len(stream)) {
		t.Fatalf("info %+v", m.Info)
	}
	for i := 0; i < m.Info.NumPieces(); i++ {
		end := min((i+1)*16384, len(stream))
		if m.Info.PieceHash(i) != Hash(sha1.Sum(stream[i*16384:end])) {
			t.Fatalf("piece %d hash differs", i)
		}
	}
	if m.Announce != "http://a/announce" || len(m.AnnounceList) != 2 || m.AnnounceList[1][1] != "udp://c:2" ||
		m.URLList[0] != "http://web/" || m.Comment != "c" || m.CreatedBy != DefaultCreatedBy || m.CreationDate != when.Unix() {
		t.Fatalf("metainfo %+v", m)
	}
	if len(calls) == 0 || calls[len(calls)-1] != int64(len(stream)) {
		t.Fatalf("progress calls %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Fatalf("progress went back: %v", calls)
		}
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil || back.InfoHash != m.InfoHash || back.Comment != "c" || len(back.AnnounceList) != 2 {
		t.Fatalf("parse back: %v %+v", err, back)
	}
	// Same input, same info hash, whatever the number of workers.
	m2, err := Create(context.Background(), root, CreateOptions{PieceLength: 16384, Workers: 1, Private: true, Source: "SRC"})
	if err != nil || m2.InfoHash != m.InfoHash || !bytes.Equal(m2.InfoBytes, m.InfoBytes) {
		t.Fatalf("not deterministic: %v", err)
	}
}

func TestCreateSingleFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "one.iso")
	data := pattern(1<<20+3, 9)
	writeFile(t, p, data)
	m, err := Create(context.Background(), p, CreateOptions{NoCreationDate: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.IsMultiFile() || m.Info.Length != int64(len(data)) || m.Info.Name != "one.iso" || m.CreationDate != 0 {
		t.Fatalf("%+v", m.Info)
	}
	if m.Info.PieceLength != PieceLengthFor(int64(len(data))) || m.Info.PieceHash(0) != Hash(sha1.Sum(data[:m.Info.PieceLength])) {
		t.Fatalf("piece length %d", m.Info.PieceLength)
	}
	if m.Announce != "" || m.AnnounceList != nil {
		t.Fatal("trackers without asking")
	}
}

func TestPieceLengthFor(t *testing.T) {
	for _, tt := range []struct{ total, want int64 }{
		{1, 16 << 10},
		{31 << 20, 16 << 10},
		{32 << 20, 32 << 10},
		{1 << 30, 1 << 20},
		{4 << 30, 4 << 20},
		{1 << 40, 16 << 20},
	} {
		if got := PieceLengthFor(tt.total); got != tt.want {
			t.Errorf("PieceLengthFor(%d) = %d, want %d", tt.total, got, tt.want)
		}
		if n := (tt.total + tt.want - 1) / tt.want; tt.total > 32<<20 && tt.total < 32<<30 && (n < 1000 || n > 2000) {
			t.Errorf("PieceLengthFor(%d) gives %d pieces", tt.total, n)
		}
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	zeros := filepath.Join(dir, "zeros")
	writeFile(t, filepath.Join(zeros, "a"), nil)
	withFifo := filepath.Join(dir, "fifo")
	writeFile(t, filepath.Join(withFifo, "a"), []byte("x"))
	if err := syscall.Mkfifo(filepath.Join(withFifo, "pipe"), 0o644); err != nil {
		t.Fatal("mkfifo:", err)
	}
	withLink := filepath.Join(dir, "link")
	writeFile(t, filepath.Join(withLink, "a"), []byte("x"))
	os.Symlink(dir, filepath.Join(withLink, "up"))
	good := filepath.Join(dir, "good")
	writeFile(t, filepath.Join(good, "a"), []byte("x"))

	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		path string
		opts CreateOptions
		want error
		text string
	}{
		{"missing", ctx, filepath.Join(dir, "nope"), CreateOptions{}, os.ErrNotExist, ""},
		{"empty dir", ctx, empty, CreateOptions{}, ErrNoFiles, ""},
		{"only empty files", ctx, zeros, CreateOptions{}, ErrNoFiles, ""},
		{"fifo", ctx, withFifo, CreateOptions{}, nil, "not a regular file"},
		{"symlink to dir", ctx, withLink, CreateOptions{}, nil, "symlink to a directory"},
		{"piece length not power of two", ctx, good, CreateOptions{PieceLength: 20000}, ErrPieceLength, ""},
		{"piece length too small", ctx, good, CreateOptions{PieceLength: 1024}, ErrPieceLength, ""},
		{"canceled", canceled, good, CreateOptions{}, context.Canceled, ""},
	} {
		_, err := Create(tt.ctx, tt.path, tt.opts)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: Create = %v, want %v %q", tt.name, err, tt.want, tt.text)
		}
	}
}

// TestCreateCancelMidway cancels while hashing a file larger than the
// buffers in flight; Create returns and leaves no goroutine behind.
func TestCreateCancelMidway(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	writeFile(t, p, make([]byte, 4<<20))
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Create(ctx, p, CreateOptions{PieceLength: 16 << 10, Workers: 2, Progress: func(done, total int64) {
		if done > 0 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Create = %v, want context.Canceled", err)
	}
}
