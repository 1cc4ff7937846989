package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

func init() { rootCmd.AddCommand(newCatCmd()) }

func newCatCmd() *cobra.Command {
	var f streamFlags
	cmd := &cobra.Command{
		Use:   "cat [--dir DIR] [--peer HOST:PORT]... FILE.torrent|MAGNET [FILE]",
		Short: "Write one file of a torrent to standard output while it downloads",
		Long: `Cat downloads one file of a torrent and writes it to standard output as
it arrives, in order: each piece is verified before a byte of it is written,
and the pieces just ahead of the output are fetched first. FILE is the
file's index as bt info shows it, or a glob matching its path (*.mkv); it
may be left out for a single-file torrent.

Only that file is downloaded (with the bytes of pieces it shares with its
neighbours). Without --dir it goes into a temporary directory that is
removed at the end.`,
		Example: `  bt cat --peer 192.0.2.7:6881 talk.torrent 0 | mpv -
  bt cat talk.torrent '*.mkv' > talk.mkv`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pattern := ""
			if len(args) == 2 {
				pattern = args[1]
			}
			return runCat(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], pattern, &f)
		},
	}
	f.register(cmd, "download directory (default: a temporary one, removed at the end)")
	return cmd
}

func runCat(ctx context.Context, stdout, stderr io.Writer, arg, pattern string, f *streamFlags) error {
	src, err := loadSource(arg)
	if err != nil {
		return fmt.Errorf("cat: %w", err)
	}
	// Only the file read is wanted: for a .torrent from the start, for a
	// magnet link once the metadata is here.
	opts := &bt.TorrentOptions{}
	idx := -1
	if src.mi != nil {
		if idx, err = chooseFile(src.mi, pattern); err != nil {
			return fmt.Errorf("cat: %w", err)
		}
		opts.FilePriorities = onlyFile(len(src.mi.Info.Layout().Files), idx)
	}
	s, err := openStream(stderr, "cat", src, f, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	// The data goes to stdout; what is going on, to stderr.
	if !f.quiet {
		defer s.show(stderr)()
	}
	if idx < 0 {
		mi, err := s.waitMetadata(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return errInterrupted
			}
			return fmt.Errorf("cat: waiting for the metadata: %s", plainError(err))
		}
		if idx, err = chooseFile(mi, pattern); err != nil {
			return fmt.Errorf("cat: %w", err)
		}
		for i, p := range onlyFile(len(mi.Info.Layout().Files), idx) {
			s.tor.SetFilePriority(i, p)
		}
	}
	r, err := s.tor.NewReader(idx)
	if err != nil {
		return fmt.Errorf("cat: %s", plainError(err))
	}
	defer r.Close()
	r.SetContext(ctx)
	if _, err := io.Copy(stdout, r); err != nil {
		switch {
		case errors.Is(err, syscall.EPIPE):
			return errBrokenPipe
		case ctx.Err() != nil:
			return errInterrupted
		}
		return fmt.Errorf("cat: %s", plainError(err))
	}
	return nil
}

// chooseFile returns the file pattern names; an empty pattern names the
// only file of a single-file torrent.
func chooseFile(mi *metainfo.MetaInfo, pattern string) (int, error) {
	if pattern != "" {
		return pickFile(mi, pattern)
	}
	if n := len(mi.Info.Files); n > 1 {
		return 0, fmt.Errorf("%s has %d files; say which (bt info lists them)", mi.Info.Name, n)
	}
	return 0, nil
}

// onlyFile returns priorities that skip every file but idx.
func onlyFile(n, idx int) []int {
	prios := make([]int, n)
	prios[idx] = bt.PriorityNormal
	return prios
}
