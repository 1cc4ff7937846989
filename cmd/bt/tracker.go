package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker/server"
)

func init() { rootCmd.AddCommand(newTrackerCmd()) }

func newTrackerCmd() *cobra.Command {
	var (
		httpAddr, udpAddr, allowFile string
		interval                     time.Duration
		verbose                      bool
	)
	cmd := &cobra.Command{
		Use:   "tracker --http ADDR --udp ADDR",
		Short: "Run a BitTorrent tracker (HTTP and UDP)",
		Long: `Tracker runs a small in-memory BitTorrent tracker: HTTP announce and scrape
at /announce and /scrape, and the UDP tracker protocol (BEP 15), with compact
and IPv6 peers. Peers are forgotten after two intervals without an announce.
It suits a private swarm on a LAN, demos and tests; it keeps no state on disk.

Put the announce URLs it prints into a torrent (bt create -t URL). With
--allow, only the info hashes listed in the file (hex or base32, one a line,
# comments) are tracked. It runs until interrupted.`,
		Example: `  bt tracker --http 127.0.0.1:6969 --udp 127.0.0.1:6969
  bt tracker --http :8000 --allow hashes.txt --interval 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if httpAddr == "" && udpAddr == "" {
				return errors.New("tracker: give --http ADDR, --udp ADDR or both")
			}
			if interval < 10*time.Second || interval > 24*time.Hour {
				return fmt.Errorf("tracker: --interval %v: must be between 10s and 24h", interval)
			}
			cfg := server.Config{Interval: interval}
			if allowFile != "" {
				allow, err := readAllowList(allowFile)
				if err != nil {
					return fmt.Errorf("tracker: --allow: %w", err)
				}
				cfg.Allow = func(h [20]byte) bool { return allow[h] }
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			return runTracker(cmd.Context(), cmd.OutOrStdout(), cfg, httpAddr, udpAddr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&httpAddr, "http", "", "serve HTTP announces and scrapes on `ADDR` (host:port)")
	f.StringVar(&udpAddr, "udp", "", "serve UDP tracker requests on `ADDR` (host:port)")
	f.DurationVar(&interval, "interval", 30*time.Minute, "announce interval told to clients")
	f.StringVar(&allowFile, "allow", "", "track only the info hashes listed in `FILE`")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every request")
	return cmd
}

// runTracker serves until ctx ends, printing the announce URLs once it
// listens.
func runTracker(ctx context.Context, out io.Writer, cfg server.Config, httpAddr, udpAddr string) error {
	srv := server.New(cfg)
	err := srv.ListenAndServe(ctx, httpAddr, udpAddr, func(h, u net.Addr) {
		if h != nil {
			fmt.Fprintf(out, "HTTP announce URL: http://%s/announce\n", announceHost(h))
		}
		if u != nil {
			fmt.Fprintf(out, "UDP announce URL:  udp://%s/announce\n", announceHost(u))
		}
	})
	if err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	return nil
}

// announceHost names a listening address for a URL; an unspecified address
// (":6969") is shown as 127.0.0.1, which at least works locally.
func announceHost(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// readAllowList reads info hashes, one a line; blank lines and # comments
// are skipped.
func readAllowList(path string) (map[[20]byte]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	allow := make(map[[20]byte]bool)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		h, err := metainfo.ParseHash(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		allow[h] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return allow, nil
}
