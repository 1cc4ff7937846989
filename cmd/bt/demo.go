package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker/server"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

type demoFlags struct {
	size     string
	leechers int
	maxUp    string
	keep     bool

	trackerLog *slog.Logger // the tracker's logs (tests); nil: discarded
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [--size 64MiB] [--leechers 4]",
		Short: "Run a whole swarm on this machine: a tracker, a seed and leechers",
		Long: `Demo shows bt working with nothing but this binary and no network beyond
127.0.0.1: it writes random data into a temporary directory, makes a torrent
of it, starts a tracker, a seed and --leechers leechers (each a client of its
own, as on separate machines), which find each other through the tracker and
trade pieces until all have every byte, verified. A line per peer shows its
progress; the end prints the time taken and the rate. Everything is removed
afterwards unless --keep.`,
		Example: `  bt demo
  bt demo --size 1GiB --leechers 6 --max-up 20M`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), &f)
		},
	}
	cmd.Flags().StringVar(&f.size, "size", "64MiB", "how much data to share")
	cmd.Flags().IntVar(&f.leechers, "leechers", 4, "how many leechers")
	cmd.Flags().StringVar(&f.maxUp, "max-up", "0", `upload limit of every peer, e.g. "5M" (0: none)`)
	cmd.Flags().BoolVar(&f.keep, "keep", false, "keep the temporary directory and print where it is")
	return cmd
}

// demoInterval is the announce interval of the demo's tracker.
const demoInterval = 5 * time.Second

// demoPeer is one member of the demo swarm.
type demoPeer struct {
	name   string
	client *bt.Client
	tor    *bt.Torrent
	done   time.Duration // time to complete, 0 while downloading
}

func runDemo(ctx context.Context, out io.Writer, f *demoFlags) (err error) {
	size, err := parseRate(f.size)
	if err != nil || size <= 0 {
		return fmt.Errorf("demo: --size %q is not a size like 64MiB", f.size)
	}
	up, err := parseRate(f.maxUp)
	if err != nil {
		return fmt.Errorf("demo: --max-up: %w", err)
	}
	if f.leechers < 1 || f.leechers > 50 {
		return fmt.Errorf("demo: --leechers %d: give 1 to 50", f.leechers)
	}
	dir, err := os.MkdirTemp("", "bt-demo-*")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if f.keep {
		defer fmt.Fprintf(out, "files kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The data and its torrent.
	fmt.Fprintf(out, "writing %s of random data into %s\n", sizeString(size), dir)
	src := filepath.Join(dir, "seed", "demo.bin")
	if err := writeRandom(src, size); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	// The tracker.
	trkLog := quiet
	if f.trackerLog != nil {
		trkLog = f.trackerLog
	}
	trk := server.New(server.Config{Interval: demoInterval, Logger: trkLog})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: tracker: %w", err)
	}
	var trkDone sync.WaitGroup
	trkDone.Add(1)
	go func() { defer trkDone.Done(); trk.Serve(ctx, ln, nil) }()
	defer trkDone.Wait()
	defer cancel()
	announce := "http://" + ln.Addr().String() + "/announce"
	fmt.Fprintf(out, "tracker at %s\n", announce)

	pieceLen := int64(0) // bt create's choice for small data
	if size >= 8<<20 {
		pieceLen = 256 << 10
	}
	mi, err := metainfo.Create(ctx, src, metainfo.CreateOptions{PieceLength: pieceLen, Trackers: [][]string{{announce}}})
	if err != nil {
		return fmt.Errorf("demo: making the torrent: %w", err)
	}
	fmt.Fprintf(out, "torrent %s: %d pieces of %s\n", mi.InfoHash, mi.Info.NumPieces(), sizeString(mi.Info.PieceLength))

	// The peers, each a client of its own, finding the others through the
	// tracker: the engine announces to the torrent's tracker itself.
	var peers []*demoPeer
	defer func() {
		for _, p := range peers {
			p.client.Close()
		}
	}()
	add := func(name, dir string) (*demoPeer, error) {
		c, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0", Logger: quiet, MaxUploadRate: up,
			// The demo's tracker asks for an announce every demoInterval;
			// a short demo must not wait the default minute for more peers.
			TrackerMinInterval: demoInterval})
		if err != nil {
			return nil, err
		}
		p := &demoPeer{name: name, client: c}
		peers = append(peers, p)
		p.tor, err = c.AddTorrent(mi, &bt.TorrentOptions{Dir: dir})
		return p, err
	}
	seed, err := add("seed", filepath.Join(dir, "seed"))
	if err != nil {
		return fmt.Errorf("demo: seed: %w", err)
	}
	if err := waitCheck(ctx, seed.tor); err != nil {
		return fmt.Errorf("demo: seed: %w", err)
	}
	start := time.Now()
	for i := range f.leechers {
		if _, err := add(fmt.Sprintf("leecher %d", i+1), filepath.Join(dir, fmt.Sprint("leecher", i+1))); err != nil {
			return fmt.Errorf("demo: leecher %d: %w", i+1, err)
		}
	}

	// Progress until every leecher is done.
	show := newDemoProgress(out, peers)
	tick := time.NewTicker(show.every)
	defer tick.Stop()
	for {
		left := 0
		for _, p := range peers[1:] {
			if p.done == 0 {
				if err := p.tor.Err(); err != nil {
					return fmt.Errorf("demo: %s: %w", p.name, err)
				}
				if p.tor.Complete() {
					p.done = time.Since(start)
					show.event(fmt.Sprintf("%s complete after %s", p.name, p.done.Round(10*time.Millisecond)))
				} else {
					left++
				}
			}
		}
		show.draw()
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return errors.New("demo: interrupted")
		case <-tick.C:
		}
	}
	elapsed := time.Since(start)
	total := size * int64(f.leechers)
	fmt.Fprintf(out, "all %d leechers have the %s, every piece verified, in %s: %s/s per leecher, %s/s moved in all\n",
		f.leechers, sizeString(size), elapsed.Round(10*time.Millisecond),
		sizeString(int64(float64(size)/elapsed.Seconds())), sizeString(int64(float64(total)/elapsed.Seconds())))
	var fromSeed int64 = seed.tor.Uploaded()
	fmt.Fprintf(out, "the seed sent %s; the leechers sent each other the other %s\n",
		sizeString(fromSeed), sizeString(max(total-fromSeed, 0)))
	return nil
}

// writeRandom writes size random bytes to path.
func writeRandom(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{'b', 't'})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rng.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	return f.Close()
}

// waitCheck waits until a torrent has checked its data and has all of it.
func waitCheck(ctx context.Context, tor *bt.Torrent) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !tor.Seeding() {
		if err := tor.Err(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-tick.C:
		}
	}
	return nil
}

// demoProgress shows one line per peer: redrawn in place on a terminal,
// printed every few seconds otherwise.
type demoProgress struct {
	w      io.Writer
	tty    bool
	peers  []*demoPeer
	every  time.Duration
	drawn  int // lines drawn last time (terminal)
	last   time.Time
	events []string
}

func newDemoProgress(w io.Writer, peers []*demoPeer) *demoProgress {
	d := &demoProgress{w: w, peers: peers, every: 200 * time.Millisecond, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		d.tty = true
	}
	return d
}

// event prints a line above the progress lines.
func (d *demoProgress) event(s string) { d.events = append(d.events, s) }

func (d *demoProgress) draw() {
	if !d.tty {
		for _, e := range d.events {
			fmt.Fprintln(d.w, e)
		}
		d.events = d.events[:0]
		if time.Since(d.last) < 2*time.Second {
			return
		}
		d.last = time.Now()
		for _, p := range d.peers {
			fmt.Fprintln(d.w, d.line(p))
		}
		return
	}
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn) // back to the first progress line
	}
	for _, e := range d.events {
		fmt.Fprintf(&b, "\x1b[2K%s\n", e)
	}
	d.events = d.events[:0]
	for _, p := range d.peers {
		fmt.Fprintf(&b, "\x1b[2K%s\n", d.line(p))
	}
	d.drawn = len(d.peers)
	io.WriteString(d.w, b.String())
}

func (d *demoProgress) line(p *demoPeer) string {
	s := p.tor.Stats()
	frac := 0.0
	if s.NumPieces > 0 {
		frac = float64(s.Pieces) / float64(s.NumPieces)
	}
	const width = 24
	n := int(frac * width)
	bar := strings.Repeat("█", n) + strings.Repeat("·", width-n)
	state := ""
	switch {
	case p.name == "seed":
		state = "seeding"
	case p.done > 0:
		state = "done in " + p.done.Round(10*time.Millisecond).String()
	}
	return fmt.Sprintf("%-10s %s %5.1f%%  ↓ %9s/s  ↑ %9s/s  %2d peers  %s", p.name, bar, 100*frac,
		sizeString(int64(s.DownloadRate)), sizeString(int64(s.UploadRate)), s.Peers, state)
}
