// Command scale measures a BitTorrent client holding many idle seeding
// torrents, for bt and for anacrolix/torrent side by side in one run: the
// time to add them (with a state directory), to have them all checked and
// seeding, the process's RSS, goroutines, file descriptors and idle CPU
// while they seed, the heap per torrent, the time to close the client,
// and the time to restart from the state directory.
//
//	cd bench && go run ./scale -n 10000
//
// Each client runs in a child process of its own (the same binary), so
// that its figures are its own. The torrents are single files of -size
// bytes under one data directory, shared by both clients; they are made
// once and kept in -dir between runs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	atorrent "github.com/anacrolix/torrent"
	ametainfo "github.com/anacrolix/torrent/metainfo"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

var (
	flagN     = flag.Int("n", 1000, "number of torrents")
	flagSize  = flag.Int("size", 16<<10, "bytes per torrent")
	flagImpl  = flag.String("impl", "bt,anacrolix", "clients to measure, comma-separated")
	flagDir   = flag.String("dir", filepath.Join(os.TempDir(), "bt-scale"), "working directory (data kept between runs)")
	flagIdle  = flag.Duration("idle", 10*time.Second, "how long idle CPU is measured")
	flagChild = flag.String("child", "", "internal: run one client and print its figures")
)

// result is one client's figures.
type result struct {
	Impl        string
	N           int
	Add         time.Duration // adding every torrent (state directory on)
	Ready       time.Duration // from the first add until all seed
	RSS, Anon   int64         // bytes, idle
	Heap        int64         // heap in use after a GC, idle
	Goroutines  int
	FDs         int
	IdleCPU     float64 // fraction of one core
	Close       time.Duration
	Restart     time.Duration // a new client on the state directory, until all seed
	RestartFDs  int
	RestartRSS  int64
	FailedCount int // torrents that reported an error
}

func main() {
	flag.Parse()
	if *flagChild != "" {
		runChild(*flagChild)
		return
	}
	if err := os.MkdirAll(*flagDir, 0o755); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "making %d torrents of %d bytes in %s\n", *flagN, *flagSize, *flagDir)
	if err := makeTorrents(*flagDir, *flagN, *flagSize); err != nil {
		log.Fatal(err)
	}
	var results []result
	for _, impl := range strings.Split(*flagImpl, ",") {
		fmt.Fprintf(os.Stderr, "running %s\n", impl)
		r, err := runParent(impl)
		if err != nil {
			log.Printf("%s: %v", impl, err)
			continue
		}
		results = append(results, r)
	}
	printTable(os.Stdout, results)
}

func runParent(impl string) (result, error) {
	cmd := exec.Command(os.Args[0], append([]string{"-child", impl}, childFlags()...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	for _, line := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "RESULT "); ok {
			err := json.Unmarshal([]byte(j), &r)
			return r, err
		}
	}
	return r, fmt.Errorf("no result in %q", out)
}

func childFlags() []string {
	return []string{"-n", strconv.Itoa(*flagN), "-size", strconv.Itoa(*flagSize), "-dir", *flagDir, "-idle", flagIdle.String()}
}

func dataDir(dir string) string { return filepath.Join(dir, "data") }
func torrentPath(dir string, k int) string {
	return filepath.Join(dir, "torrents", fmt.Sprintf("t%05d.torrent", k))
}

// makeTorrents writes n files of size random bytes and a .torrent of each,
// unless they exist.
func makeTorrents(dir string, n, size int) error {
	for _, d := range []string{dataDir(dir), filepath.Join(dir, "torrents")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, size)
	for k := range n {
		tp := torrentPath(dir, k)
		if _, err := os.Stat(tp); err == nil {
			continue
		}
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		data := filepath.Join(dataDir(dir), fmt.Sprintf("t%05d.bin", k))
		if err := os.WriteFile(data, buf, 0o644); err != nil {
			return err
		}
		mi, err := metainfo.Create(context.Background(), data, metainfo.CreateOptions{PieceLength: 16 << 10, NoCreationDate: true})
		if err != nil {
			return err
		}
		b, err := mi.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(tp, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// client is what the child measures of either implementation.
type client interface {
	add(paths []string) error
	seeding() (done, failed int)
	close()
}

func runChild(impl string) {
	dir, n := *flagDir, *flagN
	state := filepath.Join(dir, "state-"+impl)
	os.RemoveAll(state)
	// anacrolix keeps its piece completion in the data directory: start
	// without it, as bt starts without its state directory.
	os.Remove(filepath.Join(dataDir(dir), ".torrent.bolt.db"))
	var paths []string
	for k := range n {
		paths = append(paths, torrentPath(dir, k))
	}
	r := result{Impl: impl, N: n}
	open := func() client {
		c, err := newClient(impl, dir, state)
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	start := time.Now()
	c := open()
	if err := c.add(paths); err != nil {
		log.Fatal(err)
	}
	r.Add = time.Since(start)
	r.FailedCount = waitSeeding(c, n)
	r.Ready = time.Since(start)
	time.Sleep(2 * time.Second) // let start-up work settle
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(*flagIdle)
	r.IdleCPU = (cpuTime() - cpu0).Seconds() / time.Since(t0).Seconds()
	r.RSS, r.Anon = memStatus()
	r.Goroutines = runtime.NumGoroutine()
	r.FDs = countFDs()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.Heap = int64(ms.HeapInuse)
	t1 := time.Now()
	c.close()
	r.Close = time.Since(t1)

	debug.FreeOSMemory()
	t2 := time.Now()
	c = open()
	if impl != "bt" {
		// bt restores its torrents from the state directory; anacrolix is
		// given them again and finds their pieces in its completion db.
		if err := c.add(paths); err != nil {
			log.Fatal(err)
		}
	}
	waitSeeding(c, n)
	r.Restart = time.Since(t2)
	r.RestartFDs = countFDs()
	r.RestartRSS, _ = memStatus()
	c.close()
	j, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", j)
}

func waitSeeding(c client, n int) (failed int) {
	for {
		done, failed := c.seeding()
		if done+failed >= n {
			return failed
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newClient(impl, dir, state string) (client, error) {
	switch impl {
	case "bt":
		c, err := bt.NewClient(bt.Config{
			ListenAddr: "127.0.0.1:0", DataDir: dataDir(dir), StateDir: state,
			Logger: slog.New(slog.DiscardHandler),
		})
		return &btClient{c: c}, err
	case "anacrolix":
		cfg := atorrent.NewDefaultClientConfig()
		cfg.DataDir = dataDir(dir)
		cfg.ListenHost = func(string) string { return "127.0.0.1" }
		cfg.ListenPort = 0
		cfg.NoDHT = true
		cfg.DisableIPv6 = true
		cfg.DisableTrackers = true
		cfg.Seed = true
		cfg.Slogger = slog.New(slog.DiscardHandler)
		c, err := atorrent.NewClient(cfg)
		return &anaClient{c: c}, err
	}
	return nil, fmt.Errorf("unknown client %q", impl)
}

type btClient struct{ c *bt.Client }

func (b *btClient) add(paths []string) error {
	for _, p := range paths {
		if _, err := b.c.AddTorrentFile(p, nil); err != nil {
			return err
		}
	}
	return nil
}

func (b *btClient) seeding() (done, failed int) {
	for _, t := range b.c.Torrents() {
		switch {
		case t.Seeding():
			done++
		case t.State() == bt.Stopped:
			failed++
		}
	}
	return done, failed
}

func (b *btClient) close() { b.c.Close() }

type anaClient struct {
	c  *atorrent.Client
	ts []*atorrent.Torrent
}

func (a *anaClient) add(paths []string) error {
	for _, p := range paths {
		mi, err := ametainfo.LoadFromFile(p)
		if err != nil {
			return err
		}
		t, err := a.c.AddTorrent(mi)
		if err != nil {
			return err
		}
		a.ts = append(a.ts, t)
	}
	// Check the data the completion database does not vouch for, a few
	// torrents at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, t := range a.ts {
		if t.Complete().Bool() {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.VerifyData()
		}()
	}
	wg.Wait()
	return nil
}

func (a *anaClient) seeding() (done, failed int) {
	for _, t := range a.ts {
		if t.Complete().Bool() {
			done++
		}
	}
	return done, 0
}

func (a *anaClient) close() { a.c.Close() }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memStatus returns VmRSS and RssAnon from /proc/self/status.
func memStatus() (rss, anon int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "RssAnon":
			anon = kb << 10
		}
	}
	return rss, anon
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func printTable(w io.Writer, rs []result) {
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	rows := []struct {
		name string
		f    func(r result) string
	}{
		{"torrents", func(r result) string { return strconv.Itoa(r.N) }},
		{"add all (state dir on)", func(r result) string { return sec(r.Add) }},
		{"until all seed", func(r result) string { return sec(r.Ready) }},
		{"failed torrents", func(r result) string { return strconv.Itoa(r.FailedCount) }},
		{"RSS idle", func(r result) string { return mib(r.RSS) }},
		{"anon RSS idle", func(r result) string { return mib(r.Anon) }},
		{"heap idle", func(r result) string { return mib(r.Heap) }},
		{"heap per torrent", func(r result) string { return fmt.Sprintf("%.1f KiB", float64(r.Heap)/float64(r.N)/1024) }},
		{"goroutines", func(r result) string { return strconv.Itoa(r.Goroutines) }},
		{"fds", func(r result) string { return strconv.Itoa(r.FDs) }},
		{"idle CPU (one core)", func(r result) string { return fmt.Sprintf("%.2f %%", 100*r.IdleCPU) }},
		{"close", func(r result) string { return sec(r.Close) }},
		{"restart until all seed", func(r result) string { return sec(r.Restart) }},
		{"fds after restart", func(r result) string { return strconv.Itoa(r.RestartFDs) }},
		{"RSS after restart", func(r result) string { return mib(r.RestartRSS) }},
	}
	fmt.Fprint(w, "| |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s |", r.Impl)
	}
	fmt.Fprint(w, "\n|---|")
	for range rs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, row := range rows {
		fmt.Fprintf(w, "| %s |", row.name)
		for _, r := range rs {
			fmt.Fprintf(w, " %s |", row.f(r))
		}
		fmt.Fprintln(w)
	}
}
