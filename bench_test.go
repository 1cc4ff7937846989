package bt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
)

// TestBenchTransfer times a loopback transfer of one large file, seeder →
// leecher, for bt → bt, libtorrent → bt, bt → libtorrent and libtorrent →
// libtorrent, each side its own process, and prints a table of MB/s, CPU
// seconds per GB on each side and peak RSS. It is a benchmark, not a test:
// it runs only with BT_BENCH=1.
//
//	BT_BENCH=1 BT_BENCH_SIZE=1G BT_BENCH_DIR=/dev/shm go test -run TestBenchTransfer -v -timeout 30m .
func TestBenchTransfer(t *testing.T) {
	if os.Getenv("BT_BENCH") != "1" {
		t.Skip("a benchmark: set BT_BENCH=1 to run it")
	}
	peertest.RequireLibtorrent(t)
	size := int64(1 << 30)
	if s := os.Getenv("BT_BENCH_SIZE"); s != "" {
		n, err := parseSize(s)
		if err != nil {
			t.Fatal(err)
		}
		size = n
	}
	base := t.TempDir()
	if d := os.Getenv("BT_BENCH_DIR"); d != "" {
		var err error
		if base, err = os.MkdirTemp(d, "btbench"); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(base)
	}
	btBin := filepath.Join(base, "bt")
	if out, err := exec.Command("go", "build", "-o", btBin, "./cmd/bt").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, _ := filepath.Abs("testdata/lt_bench.py")
	var noDHT []string
	if help, _ := exec.Command(btBin, "download", "--help").Output(); strings.Contains(string(help), "--no-dht") {
		noDHT = []string{"--no-dht"} // stay on loopback
	}
	btArgs := func(args ...string) []string { return append(append(args[:1:1], noDHT...), args[1:]...) }
	seedDir := filepath.Join(base, "seed")
	peertest.WriteRandomFile(t, filepath.Join(seedDir, "data.bin"), size)
	mi, err := metainfo.Create(context.Background(), filepath.Join(seedDir, "data.bin"), metainfo.CreateOptions{PieceLength: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := mi.Marshal()
	torrent := filepath.Join(base, "data.torrent")
	os.WriteFile(torrent, raw, 0o644)

	type result struct {
		name              string
		secs              float64
		seedCPU, leechCPU float64
		seedRSS, leechRSS int64
	}
	var results []result
	type benchCase struct {
		name, seeder, leecher string
		rc4                   bool // MSE with an RC4 stream, forced on both sides
	}
	cases := []benchCase{
		{"bt → bt", "bt", "bt", false},
		{"libtorrent → bt", "lt", "bt", false},
		{"bt → libtorrent", "bt", "lt", false},
		{"libtorrent → libtorrent", "lt", "lt", false},
	}
	if os.Getenv("BT_BENCH_RC4") == "1" { // the same with RC4, in the same run
		cases = append(cases, benchCase{"bt → bt, RC4", "bt", "bt", true},
			benchCase{"libtorrent → bt, RC4", "lt", "bt", true}, benchCase{"bt → libtorrent, RC4", "bt", "lt", true})
	}
	for _, c := range cases {
		baseArgs, btArgs := btArgs, btArgs
		ltEnv := append(os.Environ(), "LT_BENCH_RC4=0")
		if c.rc4 {
			btArgs = func(args ...string) []string {
				return append([]string{args[0], "--encryption", "required"}, baseArgs(args...)[1:]...)
			}
			ltEnv = append(os.Environ(), "LT_BENCH_RC4=1")
		}
		ltCmd := func(args ...string) *exec.Cmd {
			cmd := exec.Command(peertest.PythonPath, append([]string{script}, args...)...)
			cmd.Env = ltEnv
			return cmd
		}
		leechDir := filepath.Join(base, "leech")
		os.RemoveAll(leechDir)
		os.MkdirAll(leechDir, 0o755)
		var seed, leech *benchProc
		var start time.Time
		if c.leecher == "lt" {
			// libtorrent leechers are dialled by the seeder (they are slow to dial).
			leech = startBench(t, ltCmd("leech", torrent, leechDir))
			addr := "127.0.0.1:" + strconv.Itoa(leech.port)
			if c.seeder == "bt" {
				seed = startBench(t, exec.Command(btBin, btArgs("seed", "--dir", seedDir, "--port", "0", "--peer", addr, torrent)...))
			} else {
				seed = startBench(t, ltCmd("seed", torrent, seedDir, addr))
			}
			start = time.Now()
		} else {
			if c.seeder == "bt" {
				port := peertest.FreePort(t)
				seed = startBench(t, exec.Command(btBin, btArgs("seed", "--dir", seedDir, "--port", strconv.Itoa(port), torrent)...))
				seed.port = port
			} else {
				seed = startBench(t, ltCmd("seed", torrent, seedDir))
			}
			start = time.Now()
			leech = startBench(t, exec.Command(btBin, btArgs("download", "--quiet", "--dir", leechDir, "--port", "0",
				"--peer", "127.0.0.1:"+strconv.Itoa(seed.port), torrent)...))
		}
		if err := leech.wait(10 * time.Minute); err != nil {
			t.Fatalf("%s: leecher: %v\n%s", c.name, err, leech.log())
		}
		secs := time.Since(start).Seconds()
		seed.stop()
		sameFile(t, filepath.Join(seedDir, "data.bin"), filepath.Join(leechDir, "data.bin"))
		r := result{name: c.name, secs: secs}
		r.seedCPU, r.seedRSS = seed.usage()
		r.leechCPU, r.leechRSS = leech.usage()
		results = append(results, r)
	}
	gb := float64(size) / 1e9
	var b strings.Builder
	fmt.Fprintf(&b, "loopback transfer of %d MiB, 1 MiB pieces, %d CPUs\n", size>>20, runtime.NumCPU())
	fmt.Fprintf(&b, "| %-24s | %8s | %14s | %15s | %13s | %14s |\n", "seeder → leecher", "MB/s", "seed CPU s/GB", "leech CPU s/GB", "seed RSS MiB", "leech RSS MiB")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 26), strings.Repeat("-", 10), strings.Repeat("-", 16), strings.Repeat("-", 17), strings.Repeat("-", 15), strings.Repeat("-", 16))
	for _, r := range results {
		fmt.Fprintf(&b, "| %-24s | %8.1f | %14.2f | %15.2f | %13d | %14d |\n", r.name, float64(size)/1e6/r.secs,
			r.seedCPU/gb, r.leechCPU/gb, r.seedRSS>>20, r.leechRSS>>20)
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}

type benchProc struct {
	cmd   *exec.Cmd
	port  int
	stdin io.WriteCloser
	out   *strings.Builder
	done  chan error
	hwm   atomic.Int64 // peak RSS seen in /proc/PID/status (VmHWM), bytes
}

// watchRSS polls the process's VmHWM until it exits. (The rusage of a
// child is no good here: Linux carries the parent's peak RSS into it.)
func (p *benchProc) watchRSS(exited <-chan struct{}) {
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					if kb*1024 > p.hwm.Load() {
						p.hwm.Store(kb * 1024)
					}
				}
			}
		}
		select {
		case <-exited:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startBench starts a benchmark process; for libtorrent it waits for the
// port line, for bt seed for its "seeding" line.
func startBench(t *testing.T, cmd *exec.Cmd) *benchProc {
	t.Helper()
	p := &benchProc{cmd: cmd, out: &strings.Builder{}, done: make(chan error, 1)}
	p.stdin, _ = cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	exited := make(chan struct{})
	go p.watchRSS(exited)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			p.out.WriteString(line + "\n")
			var m struct{ Port int }
			if json.Unmarshal([]byte(line), &m) == nil && m.Port != 0 {
				p.port = m.Port
			}
			if !signalled && (m.Port != 0 || strings.HasPrefix(line, "seeding")) {
				signalled = true
				close(ready)
			}
		}
		if !signalled {
			close(ready)
		}
		err := cmd.Wait()
		close(exited)
		p.done <- err
	}()
	t.Cleanup(func() { p.stop() })
	if len(cmd.Args) > 1 && (cmd.Args[1] == "download") {
		return p
	}
	select {
	case <-ready:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%v did not get ready", cmd.Args)
	}
	return p
}

func (p *benchProc) wait(d time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(d):
		return fmt.Errorf("timed out")
	}
}

func (p *benchProc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.stdin.Close()
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		p.done <- <-p.done
	}
}

func (p *benchProc) log() string { return p.out.String() }

// usage returns CPU seconds (user+system) and peak RSS in bytes.
func (p *benchProc) usage() (float64, int64) {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return cpu, p.hwm.Load()
}

// sameFile compares two files in chunks (the benchmark process must stay
// small: its children's figures are measured).
func sameFile(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, _ := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			t.Fatalf("%s and %s differ", a, b)
		}
		if ea != nil {
			return
		}
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}
