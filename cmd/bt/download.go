package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bt-go/bt"
)

func init() { rootCmd.AddCommand(newDownloadCmd()) }

// transferFlags are the flags download and seed share.
type transferFlags struct {
	dir   string
	port  int
	peers []string
	quiet bool
	debug bool
	state *stateFlags    // download only: --only, --skip, --state-dir (select.go)
	lim   limitFlags     // --max-down, --max-up, --max-peers (limits.go)
	disc  discoveryFlags // --no-dht, --dht-bootstrap, --tracker (discovery.go)
}

func (f *transferFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "dir", ".", "download directory (a multi-file torrent makes a directory of its name in it)")
	cmd.Flags().IntVar(&f.port, "port", 0, "TCP port to accept peers on (0: any free port)")
	cmd.Flags().StringArrayVar(&f.peers, "peer", nil, "connect to the peer at HOST:PORT (repeatable)")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log protocol details to stderr")
	f.lim.register(cmd)
	f.disc.register(cmd)
}

func newDownloadCmd() *cobra.Command {
	f := transferFlags{state: &stateFlags{}}
	var seed bool
	cmd := &cobra.Command{
		Use:   "download [--dir DIR] [--port N] [--peer HOST:PORT]... [--only|--skip PATTERN]... [--state-dir DIR] [--seed] [--quiet] FILE.torrent|MAGNET",
		Short: "Download a torrent, verify it, and exit when complete",
		Long: `Download fetches the torrent's data into DIR, verifying every piece, and
exits with status 0 once everything is on disk. With --seed it keeps
uploading afterwards until interrupted. Peers come from the torrent's trackers
(and --tracker URLs), from the DHT (unless --no-dht; it is joined through the
public routers, or through --dht-bootstrap nodes, on UDP at the --port
number), from --peer addresses, from peers that connect to --port, and from
peer exchange. A private torrent uses its own trackers only. A tracker that
fails is reported once, and again only when its error changes.

On a terminal a progress bar shows percent done, download and upload rates,
connected peers and the time left; otherwise a plain line is printed every
few seconds. The first Ctrl-C stops cleanly; a second one exits at once.

--only and --skip choose files by the indices bt info shows (3, 2-5) or by
a glob on their path (*.mkv, sub/*); skipped files are not created. Resume
data kept in --state-dir lets an interrupted or killed download continue
where it was, without hashing what it already verified.`,
		Example: `  bt download --dir ~/Downloads --peer 192.0.2.7:6881 debian.iso.torrent
  bt download "magnet:?xt=urn:btih:...&x.pe=192.0.2.7:6881"
  bt download --no-dht --tracker udp://tracker.example.org:6969/announce debian.iso.torrent
  bt download --dht-bootstrap 192.0.2.9:6881 "magnet:?xt=urn:btih:..."`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer func() { f.reset(); seed = false }()
			return runTransfer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), "download", args[0], &f, seed, false)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&seed, "seed", false, "keep seeding after the download completes, until interrupted")
	f.state.register(cmd)
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// runTransfer downloads (and with seed, seeds afterwards) or, with
// seedOnly, checks the data and seeds it.
func runTransfer(ctx context.Context, stdout, stderr io.Writer, command, source string, f *transferFlags, seed, seedOnly bool) error {
	peers, err := parsePeers(f.peers)
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	if err := checkWritableDir(f.dir, seedOnly); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	level := slog.LevelWarn
	if f.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", f.port), DataDir: f.dir, Logger: logger}
	if err := f.lim.configure(&cfg); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	if err := f.disc.configure(&cfg); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	if err := f.state.configure(&cfg, logger); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	client, err := bt.NewClient(cfg)
	if errors.Is(err, bt.ErrPortInUse) {
		return fmt.Errorf("%s: port %d is already in use", command, f.port)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	defer client.Close()

	checked := make(chan struct{}, 1)
	opts := &bt.TorrentOptions{Dir: f.dir, Peers: peers, OnEvent: func(e bt.Event) {
		if e.Type == bt.EventCheckDone {
			select {
			case checked <- struct{}{}:
			default:
			}
		}
	}}
	if err := f.state.apply(source, opts, logger); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	if seedOnly && strings.HasPrefix(strings.ToLower(source), "magnet:") {
		return fmt.Errorf("%s: seeding needs a .torrent file, not a magnet link", command)
	}
	tor, err := client.Add(source, opts)
	if err != nil {
		return fmt.Errorf("%s: %s", command, strings.TrimPrefix(err.Error(), "bt: "))
	}
	if err := f.disc.apply(tor); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	out := stdout
	if f.quiet {
		out = io.Discard
	}
	defer reportTrackers(out, tor)()
	if seedOnly {
		select {
		case <-checked:
		case <-ctx.Done():
			return fmt.Errorf("%s: interrupted", command)
		}
		s := tor.Stats()
		if err := tor.Err(); err != nil {
			return fmt.Errorf("%s: %s", command, strings.TrimPrefix(err.Error(), "bt: "))
		}
		if s.Pieces < s.NumPieces {
			return fmt.Errorf("%s: only %d of %d pieces of %s are in %s; use bt download to fetch the rest",
				command, s.Pieces, s.NumPieces, tor.Name(), f.dir)
		}
		fmt.Fprintf(out, "seeding %s (%s) on port %d; interrupt to stop\n", tor.Name(), sizeString(s.Size), client.Port())
		return seedUntil(ctx, out, tor)
	}

	prog := newTransferProgress(out)
	stop := make(chan struct{})
	progDone := make(chan struct{})
	go func() {
		defer close(progDone)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				prog.update(tor)
			}
		}
	}()
	err = tor.WaitComplete(ctx)
	close(stop)
	<-progDone
	prog.finish(tor)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: interrupted", command)
		}
		return fmt.Errorf("%s: %s", command, strings.TrimPrefix(err.Error(), "bt: "))
	}
	s := tor.Stats()
	fmt.Fprintf(out, "%s: complete, %s in %s\n", tor.Name(), sizeString(s.Size), tor.Dir())
	if !seed {
		return nil
	}
	fmt.Fprintf(out, "seeding on port %d; interrupt to stop\n", client.Port())
	return seedUntil(ctx, out, tor)
}

// seedUntil seeds until ctx ends, printing the upload now and then.
func seedUntil(ctx context.Context, out io.Writer, tor *bt.Torrent) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s := tor.Stats()
			fmt.Fprintf(out, "stopped; uploaded %s\n", sizeString(s.Uploaded))
			return nil
		case <-tick.C:
			if err := tor.Err(); err != nil {
				return fmt.Errorf("seed: %s", strings.TrimPrefix(err.Error(), "bt: "))
			}
			s := tor.Stats()
			fmt.Fprintf(out, "uploaded %s, %s/s, %d peers\n", sizeString(s.Uploaded), sizeString(int64(s.UploadRate)), s.Peers)
		}
	}
}

// parsePeers resolves --peer arguments.
func parsePeers(list []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, s := range list {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil || a.Port == 0 {
			return nil, fmt.Errorf("--peer %q is not a HOST:PORT address", s)
		}
		ap := a.AddrPort()
		out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	return out, nil
}

// checkWritableDir makes sure dir exists (creating it unless it must
// already hold the data) and can be written.
func checkWritableDir(dir string, mustExist bool) error {
	if mustExist {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("directory %s does not exist", dir)
		}
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrInvalid) {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return fmt.Errorf("directory %s cannot be created: %v", dir, unwrapPathError(err))
	}
	f, err := os.CreateTemp(dir, ".bt-write-test-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable", dir)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// transferProgress shows a download's progress: a bar on a terminal, a
// plain line every few seconds otherwise.
type transferProgress struct {
	w     io.Writer
	tty   bool
	bar   *progressbar.ProgressBar
	last  time.Time
	start time.Time
}

func newTransferProgress(w io.Writer) *transferProgress {
	p := &transferProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *transferProgress) line(tor *bt.Torrent, s bt.Stats) string {
	if s.NumPieces == 0 {
		return fmt.Sprintf("fetching metadata, %d peers", s.Peers)
	}
	if s.Checking {
		return "checking existing data"
	}
	pct := 100 * float64(s.Size-max(s.Left, 0)) / float64(max(s.Size, 1))
	eta := "--"
	if s.DownloadRate > 1 && s.Left > 0 {
		eta = (time.Duration(float64(s.Left)/s.DownloadRate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("%5.1f%%  ↓ %s/s  ↑ %s/s  %d peers  ETA %s", pct,
		sizeString(int64(s.DownloadRate)), sizeString(int64(s.UploadRate)), s.Peers, eta)
}

func (p *transferProgress) update(tor *bt.Torrent) {
	if p.w == io.Discard {
		return
	}
	s := tor.Stats()
	if !p.tty {
		if time.Since(p.last) >= 5*time.Second {
			p.last = time.Now()
			fmt.Fprintln(p.w, p.line(tor, s))
		}
		return
	}
	if p.bar == nil && s.Size > 0 {
		p.bar = progressbar.NewOptions64(s.Size,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(tor.Name()),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	if p.bar == nil {
		fmt.Fprintf(p.w, "\r%s", p.line(tor, s))
		return
	}
	// Unthrottled (update runs twice a second), each call draws: the last
	// one shows the bar and the line of the same moment.
	_ = p.bar.Set64(s.Size - max(s.Left, 0))
	p.bar.Describe(tor.Name() + "  " + p.line(tor, s))
}

func (p *transferProgress) finish(tor *bt.Torrent) {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// sizeString formats bytes with binary units.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
