package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bt-go/bt/metainfo"
)

func init() { rootCmd.AddCommand(newCreateCmd()) }

func newCreateCmd() *cobra.Command {
	var (
		out, pieceLength, comment, source, name string
		trackers, webSeeds                      []string
		private, force, noDate                  bool
	)
	cmd := &cobra.Command{
		Use:   "create [flags] PATH",
		Short: "Make a .torrent file from a file or a directory",
		Long: `Create hashes a file or a directory and writes a .torrent file for it
(NAME.torrent in the current directory unless -o is given).

Each -t adds a tracker tier; several URLs separated by commas in one -t form a
single tier whose trackers are equivalent (BEP 12):
  bt create -t http://a/announce -t "udp://b:80,udp://c:80" DIR
The piece length is chosen automatically (a power of two from 16 KiB to
16 MiB, aiming at 1,000 to 2,000 pieces) unless --piece-length gives one,
such as 262144, 256K or 1M.`,
		Example: `  bt create -t http://tracker.example/announce ~/photos
  bt create -o film.torrent --private --comment "for friends" film.mkv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := metainfo.CreateOptions{
				Name: name, Private: private, Comment: comment, Source: source,
				WebSeeds: webSeeds, NoCreationDate: noDate,
			}
			for _, t := range trackers {
				tier := strings.Split(t, ",")
				for _, u := range tier {
					if err := checkTrackerURL(u); err != nil {
						return fmt.Errorf("create: -t %w", err)
					}
				}
				opts.Trackers = append(opts.Trackers, tier)
			}
			if pieceLength != "" {
				n, err := parseByteSize(pieceLength)
				if err != nil {
					return fmt.Errorf("create: --piece-length %q: %w", pieceLength, err)
				}
				opts.PieceLength = n
			}
			return runCreate(cmd, args[0], out, force, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "write the torrent to this file (default NAME.torrent)")
	f.StringArrayVarP(&trackers, "tracker", "t", nil, "tracker URL; repeat for more tiers, separate with commas for one tier")
	f.StringArrayVar(&webSeeds, "webseed", nil, "web seed URL (BEP 19); may repeat")
	f.StringVar(&pieceLength, "piece-length", "", "piece length in bytes, or with K/M suffix (power of two, 16K to 512M)")
	f.BoolVar(&private, "private", false, "set the private flag (peers only from trackers)")
	f.StringVar(&comment, "comment", "", "comment to write in the torrent")
	f.StringVar(&source, "source", "", "source string (private trackers use it)")
	f.StringVar(&name, "name", "", "torrent name (default: the base name of PATH)")
	f.BoolVar(&noDate, "no-date", false, "leave out the creation date (reproducible torrents)")
	f.BoolVarP(&force, "force", "f", false, "overwrite the output file if it exists")
	return cmd
}

func runCreate(cmd *cobra.Command, path, out string, force bool, opts metainfo.CreateOptions) (err error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("create: %s does not exist", path)
		}
		return fmt.Errorf("create: %s: %v", path, unwrapPathError(err))
	}
	if out == "" {
		base := opts.Name
		if base == "" {
			abs, err := filepath.Abs(path)
			if err != nil {
				return fmt.Errorf("create: %w", err)
			}
			base = filepath.Base(abs)
		}
		out = strings.ReplaceAll(base, string(filepath.Separator), "_") + ".torrent"
	}
	if !force {
		if _, err := os.Stat(out); err == nil {
			return fmt.Errorf("create: %s already exists (use --force to overwrite)", out)
		}
	}
	// Before hashing what may be gigabytes: can the output be written?
	// The torrent goes into a temporary file beside it, renamed at the end.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create: %s cannot be written: %v", out, unwrapPathError(err))
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	stdout := cmd.OutOrStdout()
	progress, finish := newHashProgress(stdout)
	opts.Progress = progress
	m, err := metainfo.Create(cmd.Context(), path, opts)
	finish()
	if err != nil {
		return cliError("create", err)
	}
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("create: writing %s: %v", out, unwrapPathError(err))
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("create: writing %s: %v", out, unwrapPathError(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create: writing %s: %v", out, unwrapPathError(err))
	}
	if force {
		err = os.Rename(tmp.Name(), out)
	} else if err = os.Link(tmp.Name(), out); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create: %s already exists (use --force to overwrite)", out)
	}
	if err != nil {
		return fmt.Errorf("create: writing %s: %v", out, unwrapPathError(err))
	}
	l := m.Info.Layout()
	fmt.Fprintf(stdout, "created %s\n", out)
	fmt.Fprintf(stdout, "info hash: %s\n", m.InfoHash)
	fmt.Fprintf(stdout, "size:      %s in %d file(s), %d pieces of %s\n",
		humanSize(l.TotalLength), len(l.Files), l.NumPieces, humanSize(l.PieceLength))
	return nil
}

// checkTrackerURL accepts the tracker URLs bt and other clients can
// announce to: http, https and udp ones with a host.
func checkTrackerURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "udp" {
		return fmt.Errorf("%q is not an http, https or udp tracker URL", u)
	}
	return nil
}

// cliError turns a library error into the one sentence the CLI prints
// after "bt: ": the command's name, without the library's own prefixes.
func cliError(command string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted", command)
	}
	msg := strings.TrimPrefix(err.Error(), "metainfo: ")
	msg = strings.TrimPrefix(msg, command+": ")
	return fmt.Errorf("%s: %s", command, msg)
}

// newHashProgress returns a progress callback for hashing and a function
// to call when hashing ends. On a terminal it draws a progress bar; else
// it prints a plain line at most every two seconds.
func newHashProgress(w io.Writer) (func(done, total int64), func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(done, total int64) {
				if bar == nil {
					bar = progressbar.DefaultBytes(total, "hashing")
				}
				_ = bar.Set64(done)
			}, func() {
				if bar != nil {
					_ = bar.Finish()
				}
			}
	}
	var last time.Time
	var lastDone int64 = -1
	return func(done, total int64) {
		if done == lastDone || (done < total && time.Since(last) < 2*time.Second) {
			return
		}
		last, lastDone = time.Now(), done
		fmt.Fprintf(w, "hashing: %3d%% (%s of %s)\n", done*100/max(total, 1), humanSize(done), humanSize(total))
	}, func() {}
}

// parseByteSize parses "262144", "256K", "256KiB", "1M", "1MiB", "1G".
func parseByteSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, errors.New("not a positive size")
	}
	return n * mult, nil
}
