package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/termtext"
	"github.com/bt-go/bt/metainfo"
)

// streamFlags are the flags of the commands that read a torrent's files
// while it downloads: bt cat and bt serve.
type streamFlags struct {
	dir   string
	port  int
	peers []string
	debug bool
	quiet bool
	lim   limitFlags
	disc  discoveryFlags // --no-dht, --dht-bootstrap, --tracker (discovery.go)
}

func (f *streamFlags) register(cmd *cobra.Command, dirHelp string) {
	cmd.Flags().StringVar(&f.dir, "dir", "", dirHelp)
	cmd.Flags().IntVar(&f.port, "port", 0, "TCP port to accept peers on (0: any free port)")
	cmd.Flags().StringArrayVar(&f.peers, "peer", nil, "connect to the peer at HOST:PORT (repeatable)")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log protocol details to stderr")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	f.lim.register(cmd)
	f.disc.register(cmd)
}

// stream is a client running one torrent for bt cat or bt serve.
type stream struct {
	client *bt.Client
	tor    *bt.Torrent
	tmp    string // a temporary download directory to remove, if any
	made   madeDir
	lock   *torrentLock
}

// openStream starts a client and adds src to it, downloading into f.dir
// or, when it is empty, into a temporary directory removed by Close.
func openStream(stderr io.Writer, command string, src *source, f *streamFlags, opts *bt.TorrentOptions) (*stream, error) {
	peers, err := parsePeers(f.peers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if err := checkPort(f.port); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	cfg := bt.Config{ListenAddr: fmt.Sprintf(":%d", f.port), Logger: newLogger(stderr, f.debug)}
	if err := f.lim.configure(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if err := f.disc.configure(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if _, err := f.disc.tiers(); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if err := f.disc.canFindPeers(src, cfg.DHT, len(peers) > 0); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	s := &stream{}
	ok := false
	defer func() {
		if !ok {
			s.Close()
			s.made.undo()
		}
	}()
	s.client, err = bt.NewClient(cfg)
	if errors.Is(err, bt.ErrPortInUse) {
		return nil, fmt.Errorf("%s: port %d is already in use", command, f.port)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", command, plainError(err))
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bt-"+command+"-*"); err != nil {
			return nil, fmt.Errorf("%s: %w", command, err)
		}
		s.tmp = dir
	} else if s.made, err = makeDir(dir, false); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	if s.lock, err = lockTorrent(src.name(), src.infoHash(), dir, ""); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	o := *opts
	o.Dir, o.Peers = dir, peers
	s.tor, err = s.client.Add(src.arg, &o)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", command, plainError(err))
	}
	if err := f.disc.apply(s.tor); err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	ok = true
	return s, nil
}

// show keeps a status line of the stream's torrent on w until the
// returned function is called.
func (s *stream) show(w io.Writer) (stop func()) {
	prog := newTransferProgress(w, s.tor.Name())
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				prog.clear()
				return
			case <-tick.C:
				if st := s.tor.Stats(); st.Complete {
					if prog.fd >= 0 {
						prog.seeding(st)
					}
				} else {
					prog.name = termtext.Safe(s.tor.Name())
					prog.update(s.tor)
				}
			}
		}
	}()
	return func() { close(done); <-ended }
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
	s.lock.Unlock()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// pickFile returns the one file a pattern (an index as bt info shows, or a
// glob on the path) names.
func pickFile(mi *metainfo.MetaInfo, pattern string) (int, error) {
	prios, err := selectFiles(mi.Info.Layout(), mi.Info.Files != nil, []string{pattern}, nil)
	if err != nil {
		return 0, errors.New(plainError(err))
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
