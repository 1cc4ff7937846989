package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/termtext"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// bt list, bt resume and bt forget work on the state directory that bt
// download keeps (--state-dir).

func init() {
	rootCmd.AddCommand(newListCmd(), newResumeCmd(), newForgetCmd())
}

func stateDirFlag(cmd *cobra.Command, p *string) {
	def, _ := resume.DefaultDir()
	cmd.Flags().StringVar(p, "state-dir", def, "the state directory bt download keeps")
}

func newListCmd() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "list [--state-dir DIR]",
		Short: "List the torrents recorded in the state directory",
		Long: `List shows each torrent bt download has recorded in the state directory:
its info hash, progress as last recorded, size, state and download directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.OutOrStdout(), stateDir)
		},
	}
	stateDirFlag(cmd, &stateDir)
	return cmd
}

func runList(w io.Writer, stateDir string) error {
	d := &resume.Dir{Path: stateDir}
	list, err := d.List()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "no torrents in %s\n", stateDir)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INFO HASH\tNAME\tDONE\tSIZE\tSTATE\tDIRECTORY")
	for _, ih := range list {
		name, done, size, state, dir := "?", "?", "?", "?", "?"
		if mi, err := d.LoadTorrent(ih); err == nil {
			name, size = mi.Info.Name, humanSize(mi.Info.TotalLength())
		}
		rec, err := d.Load(ih)
		switch {
		case err == nil:
			if rec.Name != "" {
				name = rec.Name
			}
			state, dir = rec.State, rec.Dir
			if rec.NumPieces > 0 {
				done = fmt.Sprintf("%.1f%%", 100*float64(rec.Have.Count())/float64(rec.NumPieces))
				if rec.Have.Count() == rec.NumPieces && state != "stopped" {
					state = "complete" // seeds when resumed
				}
			} else if rec.Magnet != "" {
				done = "metadata"
			}
		case !errors.Is(err, resume.ErrCorrupt) && !errors.Is(err, resume.ErrVersion):
			state = "no record"
		default:
			state = "bad record"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ih, termtext.Safe(name), done, size, state, termtext.Safe(dir))
	}
	return tw.Flush()
}

func newResumeCmd() *cobra.Command {
	var (
		stateDir string
		port     int
		seed     bool
		quiet    bool
		peers    []string
		lim      limitFlags     // --max-down, --max-up, --max-peers (limits.go)
		disc     discoveryFlags // --no-dht, --dht-bootstrap, --tracker (discovery.go)
	)
	cmd := &cobra.Command{
		Use:   "resume [--state-dir DIR] [--port N] [--peer HOST:PORT]... [--max-down RATE] [--max-up RATE] [--no-dht] [--seed] [--quiet]",
		Short: "Continue every torrent recorded in the state directory",
		Long: `Resume restarts every torrent recorded in the state directory, each in its
download directory with its file selection, from its resume data (no full
recheck), and exits when all of them are complete; with --seed it keeps
seeding until interrupted. Peers come from --peer addresses, incoming
connections and PEX, from each torrent's trackers (and --tracker URLs, for
the torrents that are not private), and from the DHT unless --no-dht, as
with bt download. Progress and the rate limits are shown and set as with
bt download. While another bt process downloads one of the torrents,
resume refuses to start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runResume(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), stateDir, port, peers, &lim, &disc, seed, quiet)
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().IntVar(&port, "port", 0, "TCP port to accept peers on (0: any free port)")
	cmd.Flags().StringArrayVar(&peers, "peer", nil, "connect every torrent to the peer at HOST:PORT (repeatable)")
	cmd.Flags().BoolVar(&seed, "seed", false, "keep seeding after the downloads complete, until interrupted")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	lim.register(cmd)
	disc.register(cmd)
	return cmd
}

func runResume(ctx context.Context, stdout, stderr io.Writer, stateDir string, port int, peerArgs []string,
	lim *limitFlags, disc *discoveryFlags, seed, quiet bool) error {
	if stateDir == "" {
		return errors.New("resume: no state directory")
	}
	peers, err := parsePeers(peerArgs)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := checkPort(port); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	// The torrents another process is downloading stay with it: the
	// client is told to restore none of them.
	d := &resume.Dir{Path: stateDir}
	list, _ := d.List()
	var locks []*torrentLock
	defer func() {
		for _, l := range locks {
			l.Unlock()
		}
	}()
	for _, ih := range list {
		name := ih.String()
		if rec, err := d.Load(ih); err == nil && rec.Name != "" {
			name = termtext.Safe(rec.Name)
		}
		l, err := lockTorrent(name, ih.String(), "", stateDir)
		if err != nil {
			return fmt.Errorf("resume: %w; let it finish, or stop it first", err)
		}
		locks = append(locks, l)
	}
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", port), StateDir: stateDir, Logger: newLogger(stderr, false)}
	if err := lim.configure(&cfg); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := disc.configure(&cfg); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if _, err := disc.tiers(); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	client, err := bt.NewClient(cfg)
	if errors.Is(err, bt.ErrPortInUse) {
		return fmt.Errorf("resume: port %d is already in use", port)
	}
	if err != nil {
		return fmt.Errorf("resume: %s", plainError(err))
	}
	defer client.Close()
	out := stdout
	if quiet {
		out = io.Discard
	}
	tors := client.Torrents()
	if len(tors) == 0 {
		fmt.Fprintf(out, "no torrents in %s\n", stateDir)
		return nil
	}
	for _, t := range tors {
		fmt.Fprintf(out, "%s  %s  %s\n", t.InfoHash(), termtext.Safe(t.Name()), t.State())
		t.AddPeers(peers...)
		if err := disc.apply(t); err != nil {
			// A private torrent among others (the URLs are checked):
			// the others still get the extra trackers.
			fmt.Fprintf(stderr, "bt: %v\n", err)
		}
	}
	for _, t := range tors {
		if t.State() == bt.Stopped {
			continue
		}
		prog := newTransferProgress(out, t.Name())
		done := make(chan struct{})
		var werr error
		go func() {
			werr = t.WaitComplete(ctx)
			close(done)
		}()
		if err := showUntil(ctx, prog, t, done); err != nil {
			<-done
			return err
		}
		if werr != nil {
			prog.clear()
			if ctx.Err() != nil {
				return errStopped
			}
			return fmt.Errorf("resume: %s: %s", termtext.Safe(t.Name()), plainError(werr))
		}
		prog.summary(t)
	}
	if !seed {
		return nil
	}
	fmt.Fprintf(out, "seeding on port %d; interrupt to stop\n", client.Port())
	<-ctx.Done()
	return nil
}

func newForgetCmd() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "forget [--state-dir DIR] INFOHASH|PREFIX|NAME...",
		Short: "Remove torrents from the state directory (their data stays)",
		Long: `Forget removes torrents from the state directory: each is named by its info
hash, a prefix of it that only it has, or its name as bt list shows it. The
downloaded data is left where it is.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := &resume.Dir{Path: stateDir}
			for _, a := range args {
				ih, err := findRecorded(d, a)
				if err != nil {
					return fmt.Errorf("forget: %w", err)
				}
				if err := d.Remove(ih); err != nil {
					return fmt.Errorf("forget: %s", plainError(err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "forgot %s\n", ih)
			}
			return nil
		},
	}
	stateDirFlag(cmd, &stateDir)
	return cmd
}

// findRecorded returns the one recorded torrent that arg names: its info
// hash, a unique prefix of it, or its name.
func findRecorded(d *resume.Dir, arg string) (metainfo.Hash, error) {
	list, err := d.List()
	if err != nil {
		return metainfo.Hash{}, errors.New(plainError(err))
	}
	var found []metainfo.Hash
	lower := strings.ToLower(arg)
	for _, ih := range list {
		name := ""
		if rec, err := d.Load(ih); err == nil {
			name = rec.Name
		}
		if name == "" {
			if mi, err := d.LoadTorrent(ih); err == nil {
				name = mi.Info.Name
			}
		}
		if ih.String() == lower || len(arg) >= 4 && strings.HasPrefix(ih.String(), lower) || name != "" && name == arg {
			found = append(found, ih)
		}
	}
	switch len(found) {
	case 0:
		return metainfo.Hash{}, fmt.Errorf("%q is not recorded in %s (bt list shows what is)", arg, d.Path)
	case 1:
		return found[0], nil
	}
	return metainfo.Hash{}, fmt.Errorf("%q names %d recorded torrents; give more of the info hash", arg, len(found))
}
