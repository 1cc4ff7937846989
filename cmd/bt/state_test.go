package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
	"github.com/bt-go/bt/storage"
)

// buildBT builds the bt binary for tests that run it as a process, once
// per test binary (into TestMain's temporary directory).
func buildBT(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.bin = filepath.Join(testDir, "bin", "bt")
		if runtime.GOOS == "windows" {
			built.bin += ".exe"
		}
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

var built struct {
	once sync.Once
	bin  string
	out  []byte
	err  error
}

// ltSeed starts a libtorrent seed of a fresh multi-file tree with the given
// file sizes, uploading at most limit bytes/s.
func ltSeed(t *testing.T, sizes []int64, pieceSize, limit int) (lt *peertest.Libtorrent, ih, torrentPath, src string) {
	t.Helper()
	lt = peertest.StartLibtorrent(t, map[string]any{"allow_multiple_connections_per_ip": true})
	dir := t.TempDir()
	src = filepath.Join(dir, "tree")
	for i, n := range sizes {
		peertest.WriteRandomFile(t, filepath.Join(src, string(rune('a'+i))+".bin"), n)
	}
	tb, ih := peertest.CreateTorrent(t, src, peertest.CreateOptions{PieceSize: pieceSize, V1Only: true})
	torrentPath = filepath.Join(dir, "tree.torrent")
	if err := os.WriteFile(torrentPath, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: dir, SeedMode: true, UploadLimit: limit})
	return lt, ih, torrentPath, src
}

// recordPieces returns the number of pieces in the resume record, -1 if
// there is none yet.
func recordPieces(t *testing.T, mi *metainfo.MetaInfo, stateDir string) int {
	rec, err := resume.ReadFile(filepath.Join(stateDir, mi.InfoHash.String()+".resume"))
	if err != nil {
		return -1
	}
	return rec.Have.Count()
}

// verifyRecord checks that every piece the resume record claims passes
// its hash on disk, and returns how many it claims.
func verifyRecord(t *testing.T, mi *metainfo.MetaInfo, stateDir, dir string) int {
	t.Helper()
	rec, err := resume.ReadFile(filepath.Join(stateDir, mi.InfoHash.String()+".resume"))
	if err != nil {
		t.Fatalf("resume record after kill -9: %v", err)
	}
	if rec.NumPieces == 0 {
		return 0 // the first record, before any piece
	}
	st, err := storage.Open(dir, mi.Info.Layout(), func(i int) [20]byte { return mi.Info.PieceHash(i) },
		storage.Options{InfoHash: mi.InfoHash})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := rec.Have.Next(0); i >= 0; i = rec.Have.Next(i + 1) {
		if ok, err := st.VerifyPiece(i); !ok {
			t.Fatalf("piece %d is in the resume record but fails its hash on disk (%v)", i, err)
		}
	}
	return rec.Have.Count()
}

// TestKill9Resume: bt download killed with SIGKILL at random moments,
// then started again, resumes; what its resume data claims is always on
// disk; at the end the data is right and little was fetched twice.
func TestKill9Resume(t *testing.T) {
	const pieceSize = 64 << 10
	sizes := []int64{5 << 20, 1<<20 + 12345, 6 << 20}
	lt, ih, torrentPath, src := ltSeed(t, sizes, pieceSize, 3<<19)
	bin := buildBT(t)
	mi, err := metainfo.LoadFile(torrentPath)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	stateDir, dir := filepath.Join(work, "state"), filepath.Join(work, "dl")
	args := []string{"download", "--quiet", "--debug", "--state-dir", stateDir, "--dir", dir,
		"--peer", lt.Addr(), "--resume-interval", "250ms", torrentPath}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var logs []string
	kills, prev := 0, 0
	for round := range 4 {
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Wait until this run has recorded progress of its own, then kill
		// it at a random moment: between saves, during one, while pieces
		// are being written.
		deadline := time.Now().Add(20 * time.Second)
		done := false
		for !done && recordPieces(t, mi, stateDir) <= prev {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("round %d: no progress recorded\n%s", round, lastLines(stderr.String(), 20))
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("round %d: bt failed: %v\n%s", round, err, lastLines(stderr.String(), 20))
				}
				done = true
			case <-time.After(10 * time.Millisecond):
			}
		}
		if done {
			logs = append(logs, stderr.String())
			break // complete already
		}
		wait := time.Duration(rng.IntN(700)) * time.Millisecond
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("round %d: bt failed: %v\n%s", round, err, lastLines(stderr.String(), 20))
			}
			logs = append(logs, stderr.String())
			done = true
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			kills++
			logs = append(logs, stderr.String())
		}
		prev = verifyRecord(t, mi, stateDir, dir)
		t.Logf("round %d: killed %v after progress; the record holds %d of %d pieces, all on disk", round, wait, prev, mi.Info.NumPieces())
		if done {
			break
		}
	}
	if kills < 2 {
		t.Fatalf("only %d kills before the download completed; make it slower", kills)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, lastLines(string(out), 30))
	}
	logs = append(logs, string(out))
	if n := verifyRecord(t, mi, stateDir, dir); n != mi.Info.NumPieces() {
		t.Errorf("after completion the record holds %d of %d pieces", n, mi.Info.NumPieces())
	}
	for i := range sizes {
		a, _ := os.ReadFile(filepath.Join(src, string(rune('a'+i))+".bin"))
		b, err := os.ReadFile(filepath.Join(dir, "tree", string(rune('a'+i))+".bin"))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("file %d differs after the resumed download (%v)", i, err)
		}
	}
	for i, l := range logs {
		if strings.Contains(l, "ignoring resume data") {
			t.Errorf("run %d rejected its resume data:\n%s", i, grepLines(l, "resume"))
		}
		for _, line := range strings.Split(grepLines(l, "msg=resuming"), "\n") {
			if line != "" {
				t.Logf("run %d: %s", i, line[strings.Index(line, "msg="):])
			}
		}
	}
	// libtorrent's payload upload is what bt fetched over all runs. Each
	// kill may lose the pieces that were in flight (partly received) and
	// the blocks in socket buffers; verified pieces are never fetched again.
	total := mi.Info.TotalLength()
	up := lt.Status(t, ih).TotalPayloadUpload
	slack := int64(kills) * 8 * pieceSize
	t.Logf("libtorrent uploaded %d bytes for a torrent of %d (%.1f%% extra over %d kills)", up, total,
		100*float64(up-total)/float64(total), kills)
	if up > total+slack {
		t.Errorf("libtorrent uploaded %d bytes for a torrent of %d: %d bytes fetched again", up, total, up-total)
	}
}

// TestDownloadOnlySkip: --only and --skip select files; skipped files are
// not created.
func TestDownloadOnlySkip(t *testing.T) {
	sizes := []int64{300_000, 200_000, 150_000}
	lt, _, torrentPath, src := ltSeed(t, sizes, 16<<10, 0)
	bin := buildBT(t)
	for name, sel := range map[string][]string{
		"only index": {"--only", "1"},
		"skip globs": {"--skip", "a.*", "--skip", "tree/c.bin"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"download", "--quiet", "--state-dir", filepath.Join(dir, "state"),
				"--dir", dir, "--peer", lt.Addr()}, sel...)
			out, err := exec.Command(bin, append(args, torrentPath)...).CombinedOutput()
			if err != nil {
				t.Fatalf("bt download: %v\n%s", err, out)
			}
			for i, name := range []string{"a.bin", "b.bin", "c.bin"} {
				got, err := os.ReadFile(filepath.Join(dir, "tree", name))
				if i != 1 {
					if err == nil {
						t.Errorf("skipped file %s was created", name)
					}
					continue
				}
				want, _ := os.ReadFile(filepath.Join(src, name))
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs (%v)", name, err)
				}
			}
			// The skipped files' bytes of the pieces they share with b.bin
			// are in the part file.
			if parts, _ := filepath.Glob(filepath.Join(dir, ".*.parts")); len(parts) != 1 {
				t.Errorf("part files: %v", parts)
			}
		})
	}
	out, err := exec.Command(bin, "download", "--state-dir", "", "--dir", t.TempDir(), "--only", "*.iso", torrentPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"*.iso" matches no file`) {
		t.Errorf("a pattern matching nothing: %v %s", err, out)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestListResumeForget: bt list shows what bt download recorded; bt resume
// finishes an interrupted download from the state directory alone; bt
// forget removes it.
func TestListResumeForget(t *testing.T) {
	lt, ih, torrentPath, src := ltSeed(t, []int64{2 << 20, 1 << 20}, 32<<10, 1<<20)
	bin := buildBT(t)
	work := t.TempDir()
	state, dir := filepath.Join(work, "state"), filepath.Join(work, "dl")
	cmd := exec.Command(bin, "download", "-q", "--state-dir", state, "--dir", dir, "--peer", lt.Addr(),
		"--resume-interval", "100ms", torrentPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mi, _ := metainfo.LoadFile(torrentPath)
	deadline := time.Now().Add(20 * time.Second)
	for recordPieces(t, mi, state) <= 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no progress recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	out, err := exec.Command(bin, "list", "--state-dir", state).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ih) || !strings.Contains(string(out), "tree") ||
		!strings.Contains(string(out), dir) {
		t.Fatalf("bt list: %v\n%s", err, out)
	}
	t.Logf("bt list:\n%s", out)
	out, err = exec.Command(bin, "resume", "--state-dir", state, "--peer", lt.Addr()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "complete") {
		t.Fatalf("bt resume: %v\n%s", err, out)
	}
	for _, name := range []string{"a.bin", "b.bin"} {
		a, _ := os.ReadFile(filepath.Join(src, name))
		b, _ := os.ReadFile(filepath.Join(dir, "tree", name))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs after bt resume", name)
		}
	}
	if out, err := exec.Command(bin, "list", "--state-dir", state).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "100.0%") || !strings.Contains(string(out), "complete") {
		t.Fatalf("bt list after resume: %v\n%s", err, out)
	}
	// A complete download started again trusts its record; --recheck
	// does not.
	again := []string{"download", "--debug", "--state-dir", state, "--dir", dir, "--peer", lt.Addr(), torrentPath}
	out, err = exec.Command(bin, again...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("msg=resuming torrent=%s trusted=%d ", ih[:8], mi.Info.NumPieces())) {
		t.Fatalf("bt download of a complete torrent: %v\n%s", err, grepLines(string(out), "resum"))
	}
	out, err = exec.Command(bin, append([]string{"download", "--recheck"}, again[1:]...)...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "msg=resuming") {
		t.Fatalf("bt download --recheck: %v\n%s", err, grepLines(string(out), "resum"))
	}
	out, err = exec.Command(bin, "forget", "--state-dir", state, "0123456789").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"0123456789" is not recorded`) {
		t.Errorf("bt forget of an unknown hash: %v\n%s", err, out)
	}
	// The name, as bt list shows it.
	if out, err := exec.Command(bin, "forget", "--state-dir", state, "tree").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "forgot "+ih) {
		t.Fatalf("bt forget: %v\n%s", err, out)
	}
	if out, _ := exec.Command(bin, "list", "--state-dir", state).CombinedOutput(); !strings.Contains(string(out), "no torrents") {
		t.Fatalf("bt list after forget:\n%s", out)
	}
}
