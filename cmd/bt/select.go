package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// stateFlags are bt download's file selection and state directory flags.
type stateFlags struct {
	only, skip     []string
	stateDir       string
	resumeInterval time.Duration
	recheck        bool
	changed        func(name string) bool // the flag was given
	dir            *resume.Dir            // the state directory in use, if any
	selErr         atomic.Pointer[error]  // a magnet's --only/--skip chose nothing
}

func (s *stateFlags) register(cmd *cobra.Command) {
	s.changed = cmd.Flags().Changed
	def, _ := resume.DefaultDir()
	cmd.Flags().StringArrayVar(&s.only, "only", nil,
		"download only the files matching PATTERN: an index or range as bt info shows them (3, 2-5) or a glob on the path (repeatable)")
	cmd.Flags().StringArrayVar(&s.skip, "skip", nil, "do not download the files matching PATTERN (as --only; repeatable)")
	cmd.Flags().StringVar(&s.stateDir, "state-dir", def,
		`where resume data is kept, so an interrupted download continues without a full recheck ("" for none)`)
	cmd.Flags().BoolVar(&s.recheck, "recheck", false, "hash-check all data already on disk instead of trusting the resume data")
	cmd.Flags().DurationVar(&s.resumeInterval, "resume-interval", 0, "how often resume data is saved (default 30s)")
	cmd.Flags().MarkHidden("resume-interval")
}

// configure sets the client's state directory. The default one is best
// effort: if it cannot be created or written, one warning says the download
// will not be resumable and it goes on without; a --state-dir given on the
// command line must work.
func (s *stateFlags) configure(cfg *bt.Config, stderr io.Writer) error {
	if s == nil || s.stateDir == "" {
		return nil
	}
	d, err := resume.Open(s.stateDir)
	if err == nil {
		err = checkWritable(s.stateDir)
	}
	if err != nil {
		why := unwrapPathError(errors.Unwrap(err))
		if why == nil {
			why = unwrapPathError(err)
		}
		if s.changed("state-dir") {
			return fmt.Errorf("state directory %s cannot be used (%v); give another --state-dir, or --state-dir \"\" to go without resume data", s.stateDir, why)
		}
		fmt.Fprintf(stderr, "bt: warning: state directory %s cannot be used (%v); this download will not be resumable\n", s.stateDir, why)
		return nil
	}
	cfg.StateDir, cfg.NoRestore, cfg.ResumeInterval = s.stateDir, true, s.resumeInterval
	s.dir = d
	return nil
}

// checkWritable reports whether a file can be made in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".bt-write-test-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// selectErr is the error of a magnet link's --only/--skip once its
// metadata came (the torrent was then closed).
func (s *stateFlags) selectErr() error {
	if s == nil {
		return nil
	}
	if e := s.selErr.Load(); e != nil {
		return *e
	}
	return nil
}

// chooseFiles returns the priorities --only and --skip ask for, or an
// error when they leave no file to download.
func (s *stateFlags) chooseFiles(mi *metainfo.MetaInfo) ([]int, error) {
	prios, err := selectFiles(mi.Info.Layout(), mi.Info.Files != nil, s.only, s.skip)
	if err != nil {
		return nil, errors.New(plainError(err))
	}
	for _, p := range prios {
		if p > 0 {
			return prios, nil
		}
	}
	return nil, fmt.Errorf("--only and --skip leave no file of %s to download", mi.Info.Name)
}

// apply sets the file priorities --only and --skip ask for: at once for a
// .torrent, when the metadata arrives for a magnet link.
// With --recheck it first drops the torrent's resume record, so that
// everything on disk is checked.
func (s *stateFlags) apply(src *source, opts *bt.TorrentOptions, log *slog.Logger) error {
	if s == nil {
		return nil
	}
	if s.recheck && s.stateDir != "" {
		d := &resume.Dir{Path: s.stateDir}
		ih := src.hash()
		if err := os.Remove(d.ResumePath(ih)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--recheck: %v", unwrapPathError(err))
		}
	}
	if len(s.only) == 0 && len(s.skip) == 0 {
		return nil
	}
	if src.mi != nil {
		prios, err := s.chooseFiles(src.mi)
		if err != nil {
			return err
		}
		opts.FilePriorities = prios
		return nil
	}
	next := opts.OnEvent
	opts.OnEvent = func(e bt.Event) {
		if e.Type == bt.EventMetadata {
			prios, err := s.chooseFiles(e.Torrent.Metadata())
			if err != nil {
				s.selErr.Store(&err)
				e.Torrent.Close()
				return
			}
			for i, p := range prios {
				e.Torrent.SetFilePriority(i, p)
			}
		}
		if next != nil {
			next(e)
		}
	}
	return nil
}
