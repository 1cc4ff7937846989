package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

// streamFlags are the flags of the commands that read a torrent's files
// while it downloads: bt cat and bt serve.
type streamFlags struct {
	dir   string
	port  int
	peers []string
	debug bool
	lim   limitFlags
}

func (f *streamFlags) register(cmd *cobra.Command, dirHelp string) {
	cmd.Flags().StringVar(&f.dir, "dir", "", dirHelp)
	cmd.Flags().IntVar(&f.port, "port", 0, "TCP port to accept peers on (0: any free port)")
	cmd.Flags().StringArrayVar(&f.peers, "peer", nil, "connect to the peer at HOST:PORT (repeatable)")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log protocol details to stderr")
	f.lim.register(cmd)
}

// stream is a client running one torrent for bt cat or bt serve.
type stream struct {
	client *bt.Client
	tor    *bt.Torrent
	tmp    string // a temporary download directory to remove, if any
}

// openStream starts a client and adds source to it, downloading into
// f.dir or, when it is empty, into a temporary directory removed by Close.
func openStream(stderr io.Writer, command, source string, f *streamFlags, opts *bt.TorrentOptions) (*stream, error) {
	peers, err := parsePeers(f.peers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	s := &stream{}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bt-"+command+"-*"); err != nil {
			return nil, fmt.Errorf("%s: %w", command, err)
		}
		s.tmp = dir
	} else if err := checkWritableDir(dir, false); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	level := slog.LevelWarn
	if f.debug {
		level = slog.LevelDebug
	}
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", f.port), DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if err := f.lim.configure(&cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	s.client, err = bt.NewClient(cfg)
	if errors.Is(err, bt.ErrPortInUse) {
		s.Close()
		return nil, fmt.Errorf("%s: port %d is already in use", command, f.port)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	o := *opts
	o.Dir, o.Peers = dir, peers
	s.tor, err = s.client.Add(source, &o)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %s", command, strings.TrimPrefix(err.Error(), "bt: "))
	}
	return s, nil
}

// waitMetadata waits for a magnet link's metadata.
func (s *stream) waitMetadata(ctx context.Context) (*metainfo.MetaInfo, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !s.tor.HasMetadata() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := s.tor.Err(); err != nil {
			return nil, err
		}
	}
	return s.tor.Metadata(), nil
}

// Close stops the client and removes a temporary download directory.
func (s *stream) Close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// pickFile returns the one file a pattern (an index as bt info shows, or a
// glob on the path) names.
func pickFile(mi *metainfo.MetaInfo, pattern string) (int, error) {
	prios, err := selectFiles(mi.Info.Layout(), mi.Info.Files != nil, []string{pattern}, nil)
	if err != nil {
		return 0, errors.New(strings.TrimPrefix(err.Error(), "bt: "))
	}
	found := -1
	for i, p := range prios {
		if p > 0 {
			if found >= 0 {
				return 0, fmt.Errorf("%q names more than one file; give its index (bt info lists them)", pattern)
			}
			found = i
		}
	}
	return found, nil
}
