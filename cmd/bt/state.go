package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
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
			} else if rec.Magnet != "" {
				done = "metadata"
			}
		case !errors.Is(err, resume.ErrCorrupt) && !errors.Is(err, resume.ErrVersion):
			state = "no record"
		default:
			state = "bad record"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ih, name, done, size, state, dir)
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
		disc     discoveryFlags // --no-dht, --dht-bootstrap, --tracker (discovery.go)
	)
	cmd := &cobra.Command{
		Use:   "resume [--state-dir DIR] [--port N] [--peer HOST:PORT]... [--no-dht] [--seed] [--quiet]",
		Short: "Continue every torrent recorded in the state directory",
		Long: `Resume restarts every torrent recorded in the state directory, each in its
download directory with its file selection, from its resume data (no full
recheck), and exits when all of them are complete; with --seed it keeps
seeding until interrupted. Peers come from --peer addresses, incoming
connections and PEX, from each torrent's trackers (and --tracker URLs, for
the torrents that are not private), and from the DHT unless --no-dht, as
with bt download.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runResume(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), stateDir, port, peers, &disc, seed, quiet)
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().IntVar(&port, "port", 0, "TCP port to accept peers on (0: any free port)")
	cmd.Flags().StringArrayVar(&peers, "peer", nil, "connect every torrent to the peer at HOST:PORT (repeatable)")
	cmd.Flags().BoolVar(&seed, "seed", false, "keep seeding after the downloads complete, until interrupted")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	disc.register(cmd)
	return cmd
}

func runResume(ctx context.Context, stdout, stderr io.Writer, stateDir string, port int, peerArgs []string,
	disc *discoveryFlags, seed, quiet bool) error {
	if stateDir == "" {
		return errors.New("resume: no state directory")
	}
	peers, err := parsePeers(peerArgs)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", port), StateDir: stateDir, Logger: logger}
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
		return fmt.Errorf("resume: %s", strings.TrimPrefix(err.Error(), "bt: "))
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
		fmt.Fprintf(out, "%s  %s  %s\n", t.InfoHash(), t.Name(), t.State())
		t.AddPeers(peers...)
		if err := disc.apply(t); err != nil {
			// A private torrent among others (the URLs are checked):
			// the others still get the extra trackers.
			fmt.Fprintf(stderr, "resume: %v\n", err)
		}
	}
	for _, t := range tors {
		if t.State() == bt.Stopped {
			continue
		}
		if err := t.WaitComplete(ctx); err != nil {
			if ctx.Err() != nil {
				return errors.New("resume: interrupted")
			}
			return fmt.Errorf("resume: %s: %s", t.Name(), strings.TrimPrefix(err.Error(), "bt: "))
		}
		fmt.Fprintf(out, "%s: complete in %s\n", t.Name(), t.Dir())
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
		Use:   "forget [--state-dir DIR] INFOHASH...",
		Short: "Remove torrents from the state directory (their data stays)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := &resume.Dir{Path: stateDir}
			for _, a := range args {
				ih, err := metainfo.ParseHash(a)
				if err != nil {
					return fmt.Errorf("forget: %q is not an info hash", a)
				}
				if err := d.Remove(ih); err != nil {
					return fmt.Errorf("forget: %w", err)
				}
			}
			return nil
		},
	}
	stateDirFlag(cmd, &stateDir)
	return cmd
}
