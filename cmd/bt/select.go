package main

import (
	"errors"
	"fmt"
	"log/slog"
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
	changed        func(name string) bool // the flag was given
}

func (s *stateFlags) register(cmd *cobra.Command) {
	s.changed = cmd.Flags().Changed
	def, _ := resume.DefaultDir()
	cmd.Flags().StringArrayVar(&s.only, "only", nil,
		"download only the files matching PATTERN: an index or range as bt info shows them (3, 2-5) or a glob on the path (repeatable)")
	cmd.Flags().StringArrayVar(&s.skip, "skip", nil, "do not download the files matching PATTERN (as --only; repeatable)")
	cmd.Flags().StringVar(&s.stateDir, "state-dir", def,
		`where resume data is kept, so an interrupted download continues without a full recheck ("" for none)`)
	cmd.Flags().DurationVar(&s.resumeInterval, "resume-interval", 0, "how often resume data is saved (default 30s)")
	cmd.Flags().MarkHidden("resume-interval")
}

// configure sets the client's state directory. The default one is best
// effort: if it cannot be created the download goes on without it.
func (s *stateFlags) configure(cfg *bt.Config, log *slog.Logger) error {
	if s == nil || s.stateDir == "" {
		return nil
	}
	if _, err := resume.Open(s.stateDir); err != nil {
		if s.changed("state-dir") {
			return fmt.Errorf("state directory %s: %v", s.stateDir, unwrapPathError(errors.Unwrap(err)))
		}
		log.Warn("no state directory; resume data will not be kept", "err", err)
		return nil
	}
	cfg.StateDir, cfg.NoRestore, cfg.ResumeInterval = s.stateDir, true, s.resumeInterval
	return nil
}

// apply sets the file priorities --only and --skip ask for: at once for a
// .torrent, when the metadata arrives for a magnet link.
func (s *stateFlags) apply(source string, opts *bt.TorrentOptions, log *slog.Logger) error {
	if s == nil || len(s.only) == 0 && len(s.skip) == 0 {
		return nil
	}
	if !strings.HasPrefix(strings.ToLower(source), "magnet:") {
		mi, err := metainfo.LoadFile(source)
		if err != nil {
			return nil // Add reports it
		}
		prios, err := bt.SelectFiles(mi.Info.Layout(), mi.Info.Files != nil, s.only, s.skip)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "bt: "))
		}
		opts.FilePriorities = prios
		return nil
	}
	next := opts.OnEvent
	opts.OnEvent = func(e bt.Event) {
		if e.Type == bt.EventMetadata {
			mi := e.Torrent.Metadata()
			prios, err := bt.SelectFiles(mi.Info.Layout(), mi.Info.Files != nil, s.only, s.skip)
			if err != nil {
				log.Error(strings.TrimPrefix(err.Error(), "bt: "))
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
