package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
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
// effort: if it cannot be created the download goes on without it.
func (s *stateFlags) configure(cfg *bt.Config, log *slog.Logger) error {
	if s == nil || s.stateDir == "" {
		return nil
	}
	d, err := resume.Open(s.stateDir)
	if err != nil {
		if s.changed("state-dir") {
			return fmt.Errorf("state directory %s: %v", s.stateDir, unwrapPathError(errors.Unwrap(err)))
		}
		log.Warn("no state directory; resume data will not be kept", "err", err)
		return nil
	}
	cfg.StateDir, cfg.NoRestore, cfg.ResumeInterval = s.stateDir, true, s.resumeInterval
	s.dir = d
	return nil
}

// apply sets the file priorities --only and --skip ask for: at once for a
// .torrent, when the metadata arrives for a magnet link.
// With --recheck it first drops the torrent's resume record, so that
// everything on disk is checked.
func (s *stateFlags) apply(source string, opts *bt.TorrentOptions, log *slog.Logger) error {
	if s == nil {
		return nil
	}
	magnet := strings.HasPrefix(strings.ToLower(source), "magnet:")
	var mi *metainfo.MetaInfo
	if !magnet {
		var err error
		if mi, err = metainfo.LoadFile(source); err != nil {
			return nil // Add reports it
		}
	}
	if s.recheck && s.dir != nil {
		var ih metainfo.Hash
		if mi != nil {
			ih = mi.InfoHash
		} else if m, err := metainfo.ParseMagnet(source); err == nil {
			ih = m.InfoHash
		}
		if err := os.Remove(s.dir.ResumePath(ih)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--recheck: %v", unwrapPathError(err))
		}
	}
	if len(s.only) == 0 && len(s.skip) == 0 {
		return nil
	}
	if !magnet {
		prios, err := selectFiles(mi.Info.Layout(), mi.Info.Files != nil, s.only, s.skip)
		if err != nil {
			return err
		}
		opts.FilePriorities = prios
		return nil
	}
	next := opts.OnEvent
	opts.OnEvent = func(e bt.Event) {
		if e.Type == bt.EventMetadata {
			mi := e.Torrent.Metadata()
			prios, err := selectFiles(mi.Info.Layout(), mi.Info.Files != nil, s.only, s.skip)
			if err != nil {
				log.Error(err.Error())
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
