package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/daemon"
	"github.com/bt-go/bt/resume"
	"github.com/bt-go/bt/transmissionrpc"
)

// bt daemon: one long-running process for many torrents, driven over the
// Transmission RPC (transmission-remote, Transmission's web client...).

func init() { rootCmd.AddCommand(newDaemonCmd()) }

type daemonFlags struct {
	rpc, dir, stateDir, bind, webHome string
	watch                             string
	resumeInterval                    time.Duration
	user, password                    string
	allow, hosts                      []string
	port                              int
	logLevel                          string
	disc                              discoveryFlags
}

func defaultDaemonStateDir() string {
	d, err := resume.DefaultDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "daemon")
}

func newDaemonCmd() *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   "daemon [--rpc 127.0.0.1:9091] [--dir DIR] [--state-dir DIR] [--port N]",
		Short: "Run many torrents in one process, controlled over the Transmission RPC",
		Long: `Daemon runs torrents in the background, in one process with one listening
port, and serves the Transmission RPC (rpc-version 17) at /transmission/rpc,
so transmission-remote, Transmission's web client and other Transmission
remotes control it:

  bt daemon --dir ~/Downloads &
  transmission-remote -a file.torrent
  transmission-remote -l

Torrents, their ids and settings are kept in the state directory; a restart
brings each back downloading, seeding or stopped as it was, without checking
its data again. SIGINT or SIGTERM stops the daemon cleanly (trackers are told,
resume records written).

The RPC listens on 127.0.0.1 by default and answers only 127.0.0.1 and ::1;
give --rpc-allow to let other addresses in, and --rpc-user with a password
(--rpc-password or $BT_RPC_PASSWORD) to require one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.password == "" {
				f.password = os.Getenv("BT_RPC_PASSWORD")
			}
			return runDaemon(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rpc, "rpc", "127.0.0.1:9091", "serve the RPC at this address")
	fl.StringVar(&f.dir, "dir", ".", "default download directory")
	fl.StringVar(&f.stateDir, "state-dir", defaultDaemonStateDir(), "where torrents and settings are kept")
	fl.IntVar(&f.port, "port", 51413, "port to accept peers on (0: any free port)")
	fl.StringVar(&f.watch, "watch", "", "add the .torrent and .magnet files dropped in this directory (renamed *.added once added)")
	fl.DurationVar(&f.resumeInterval, "resume-interval", 10*time.Second,
		"how often a torrent's progress is recorded while it changes (what a crash can lose)")
	fl.StringVar(&f.bind, "bind", "", "address to accept peers on (default: every interface)")
	fl.StringVar(&f.user, "rpc-user", "", "require Basic authentication with this user name")
	fl.StringVar(&f.password, "rpc-password", "", "the password of --rpc-user (default $BT_RPC_PASSWORD)")
	fl.StringArrayVar(&f.allow, "rpc-allow", nil, "also answer this address or prefix (repeatable; \"*\" for any)")
	fl.StringArrayVar(&f.hosts, "rpc-host", nil, "also accept this Host name (repeatable; *.example.com for subdomains)")
	fl.StringVar(&f.webHome, "web-home", os.Getenv("TRANSMISSION_WEB_HOME"), "serve Transmission's web client from this directory (default $TRANSMISSION_WEB_HOME)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	f.disc.register(cmd)
	return cmd
}

func parseAllow(list []string) ([]netip.Prefix, error) {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	for _, s := range list {
		for _, s := range strings.Split(s, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "":
			case s == "*":
				out = append(out, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			case strings.Contains(s, "/"):
				p, err := netip.ParsePrefix(s)
				if err != nil {
					return nil, fmt.Errorf("--rpc-allow %q: %w", s, err)
				}
				out = append(out, p.Masked())
			default:
				a, err := netip.ParseAddr(s)
				if err != nil {
					return nil, fmt.Errorf("--rpc-allow %q is not an address or prefix", s)
				}
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
			}
		}
	}
	return out, nil
}

func runDaemon(ctx context.Context, stdout, stderr io.Writer, f *daemonFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %w", f.logLevel, err)
	}
	if f.stateDir == "" {
		return errors.New("no state directory: give --state-dir")
	}
	if f.user != "" && f.password == "" {
		return errors.New("--rpc-user needs a password (--rpc-password or $BT_RPC_PASSWORD)")
	}
	allow, err := parseAllow(f.allow)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := bt.Config{ListenAddr: net.JoinHostPort(f.bind, fmt.Sprint(f.port)), DataDir: f.dir, StateDir: f.stateDir, Logger: logger,
		ResumeInterval: f.resumeInterval}
	if err := f.disc.configure(&cfg); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.rpc)
	if err != nil {
		return fmt.Errorf("rpc: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d, err := daemon.New(context.Background(), daemon.Config{Engine: cfg, WatchDir: f.watch})
	if err != nil {
		ln.Close()
		return err
	}
	h := transmissionrpc.NewHandler(d, transmissionrpc.Options{
		User: f.user, Password: f.password, AllowedIPs: allow, AllowedHosts: f.hosts,
		WebHome: f.webHome, Logger: logger, OnClose: cancel,
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "bt daemon: %d torrents, peers on port %d, rpc at http://%s/transmission/rpc\n",
		len(d.Torrents()), d.Port(), ln.Addr())
	select {
	case <-ctx.Done():
	case err = <-served:
	case <-d.Done():
	}
	shut, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	srv.Shutdown(shut)
	cerr := d.Close()
	fmt.Fprintln(stdout, "bt daemon: stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("rpc: %w", err)
	}
	return cerr
}
