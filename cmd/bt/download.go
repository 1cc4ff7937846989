package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/termtext"
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

On a terminal one status line, redrawn in place and cut to the terminal's
width, shows percent done, download and upload rates, the time left and the
connected peers; otherwise a plain line naming the torrent is printed every
few seconds. Percent, sizes and time left are of the files chosen. At the
end bt prints the time taken, the average rate and where the data is. The
first Ctrl-C stops cleanly (exit status 130: run the same command again to
resume); a second one exits at once.

--only and --skip choose files by the indices bt info shows (3, 2-5) or by
a glob on their path (*.mkv, sub/*); skipped files are not created, and
choosing none is an error. Resume data kept in --state-dir lets an
interrupted or killed download continue where it was, without hashing what
it already verified; it is saved every 30 s and after every 32 MiB
verified.

Besides the data, DIR holds two hidden files per torrent: ".<infohash>.parts"
keeps the bytes of skipped files that share a piece with wanted ones, and
".<infohash>.lock", while bt runs, keeps a second bt process from
downloading the same torrent into DIR (a shared --state-dir is locked the
same way).`,
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

// errStopped is a download interrupted before it completed: the command
// exits with status 130, as a shell does for Ctrl-C.
var errStopped = errors.New("stopped; run the same command again to resume")

// runTransfer downloads (and with seed, seeds afterwards) or, with
// seedOnly, checks the data and seeds it.
func runTransfer(ctx context.Context, stdout, stderr io.Writer, command, arg string, f *transferFlags, seed, seedOnly bool) (err error) {
	peers, err := parsePeers(f.peers)
	if err != nil {
		return err
	}
	if err := checkPort(f.port); err != nil {
		return err
	}
	logger := newLogger(stderr, f.debug)
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", f.port), DataDir: f.dir, Logger: logger}
	if err := f.lim.configure(&cfg); err != nil {
		return err
	}
	if err := f.disc.configure(&cfg); err != nil {
		return err
	}
	if _, err := f.disc.tiers(); err != nil {
		return err
	}
	src, err := loadSource(arg)
	if err != nil {
		return err
	}
	if seedOnly && src.mag != nil {
		return errors.New("seeding needs a .torrent file, not a magnet link")
	}
	if !seedOnly {
		if err := f.disc.canFindPeers(src, cfg.DHT, len(peers) > 0); err != nil {
			return err
		}
	}
	opts := &bt.TorrentOptions{Dir: f.dir, Peers: peers}
	if err := f.state.apply(src, opts, logger); err != nil {
		return err
	}
	if err := f.state.configure(&cfg, stderr); err != nil {
		return err
	}
	client, err := bt.NewClient(cfg)
	if errors.Is(err, bt.ErrPortInUse) {
		return fmt.Errorf("port %d is already in use", f.port)
	}
	if err != nil {
		return errors.New(plainError(err))
	}
	defer client.Close()
	// The download directory is made only once start-up has worked, and
	// removed again (if still empty) when the rest of it fails.
	made, err := makeDir(f.dir, seedOnly)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && !errors.Is(err, errStopped) {
			made.undo()
		}
	}()
	lock, err := lockTorrent(src.name(), src.infoHash(), f.dir, cfg.StateDir)
	if err != nil {
		return err
	}
	defer lock.Unlock()

	checked := make(chan struct{}, 1)
	next := opts.OnEvent
	opts.OnEvent = func(e bt.Event) {
		if e.Type == bt.EventCheckDone {
			select {
			case checked <- struct{}{}:
			default:
			}
		}
		if next != nil {
			next(e)
		}
	}
	tor, err := client.Add(arg, opts)
	if err != nil {
		return errors.New(plainError(err))
	}
	if err := f.disc.apply(tor); err != nil {
		return err
	}
	out := stdout
	if f.quiet {
		out = io.Discard
	}
	defer reportTrackers(out, tor)()
	prog := newTransferProgress(out, tor.Name())
	if seedOnly {
		if err := showUntil(ctx, prog, tor, checked); err != nil {
			return err
		}
		s := tor.Stats()
		if err := tor.Err(); err != nil {
			return errors.New(plainError(err))
		}
		if s.Pieces < s.NumPieces {
			return fmt.Errorf("only %d of %d pieces of %s are in %s; use bt download to fetch the rest",
				s.Pieces, s.NumPieces, termtext.Safe(tor.Name()), f.dir)
		}
		fmt.Fprintf(out, "seeding %s (%s) on port %d; interrupt to stop\n", termtext.Safe(tor.Name()), sizeString(s.Size), client.Port())
		return seedUntil(ctx, prog, tor)
	}

	done := make(chan struct{})
	var werr error
	go func() {
		werr = tor.WaitComplete(ctx)
		close(done)
	}()
	if err := showUntil(ctx, prog, tor, done); err != nil {
		<-done
		return err
	}
	if werr != nil {
		prog.clear()
		if ctx.Err() != nil {
			return errStopped
		}
		if serr := f.state.selectErr(); serr != nil {
			return serr
		}
		return errors.New(plainError(werr))
	}
	prog.summary(tor)
	if !seed {
		return nil
	}
	fmt.Fprintf(out, "seeding on port %d; interrupt to stop\n", client.Port())
	return seedUntil(ctx, prog, tor)
}

// showUntil shows tor's progress until done is closed, or returns
// errStopped when ctx ends first.
func showUntil(ctx context.Context, prog *transferProgress, tor *bt.Torrent, done <-chan struct{}) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			prog.clear()
			return errStopped
		case <-tick.C:
			prog.update(tor)
		}
	}
}

// seedUntil seeds until ctx ends: a live status line on a terminal
// (uploaded, rate, peers, ratio), a plain line every half minute otherwise.
func seedUntil(ctx context.Context, prog *transferProgress, tor *bt.Torrent) error {
	every := 30 * time.Second
	if prog.fd >= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			prog.clear()
			s := tor.Stats()
			fmt.Fprintf(prog.w, "stopped seeding; uploaded %s\n", sizeString(s.Uploaded))
			return nil
		case <-tick.C:
			if err := tor.Err(); err != nil {
				prog.clear()
				return errors.New(plainError(err))
			}
			prog.seeding(tor.Stats())
		}
	}
}

// checkPort checks a --port value.
func checkPort(p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("--port %d is not a port number (0 to 65535; 0 picks a free one)", p)
	}
	return nil
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

// madeDir is a download directory makeDir created, with the parents it
// created, so a failed start can remove them again.
type madeDir []string

// undo removes the directories made, if they are still empty.
func (m madeDir) undo() {
	for _, d := range m {
		os.Remove(d)
	}
}

// makeDir makes sure dir exists (creating it and its parents unless it
// must already hold the data) and can be written.
func makeDir(dir string, mustExist bool) (madeDir, error) {
	if mustExist {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("directory %s does not exist", dir)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", dir)
		}
		return nil, nil
	}
	var made madeDir
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = append(made, d) // deepest first, the order undo needs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrInvalid) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("%s is not a directory", dir)
		}
		return nil, fmt.Errorf("directory %s cannot be created: %v", dir, unwrapPathError(err))
	}
	f, err := os.CreateTemp(dir, ".bt-write-test-*")
	if err != nil {
		made.undo()
		return nil, fmt.Errorf("directory %s is not writable", dir)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return made, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
