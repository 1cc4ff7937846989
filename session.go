package bt

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// The client's torrent list. With Config.StateDir, the client records each
// torrent it is given in the state directory (package resume: the
// .torrent and a resume record per torrent) and, unless Config.NoRestore,
// adds them all again when a client is created on the same directory: each
// comes back in its download directory, run state and file priorities, and
// starts from its resume record rather than a full hash check.
// Torrent.Close removes a torrent from the list; Client.Close keeps it.

// openState opens the state directory of cfg, if any.
func openState(cfg *Config) (*resume.Dir, error) {
	if cfg.StateDir == "" {
		return nil, nil
	}
	d, err := resume.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("bt: %w", err)
	}
	return d, nil
}

// restore adds the torrents recorded in the state directory. A torrent
// that cannot be restored is logged and skipped.
func (c *Client) restore() {
	list, err := c.state.List()
	if err != nil {
		c.cfg.Logger.Warn("listing the state directory", "err", err)
		return
	}
	for _, ih := range list {
		if _, err := c.restoreOne(ih); err != nil {
			c.cfg.Logger.Warn("restoring a torrent", "torrent", ih, "err", err)
		}
	}
}

func (c *Client) restoreOne(ih metainfo.Hash) (*Torrent, error) {
	rec, recErr := c.state.Load(ih)
	o := &TorrentOptions{}
	if recErr == nil {
		o.Dir = rec.Dir
		switch rec.State {
		case "paused":
			o.State = Paused
		case "stopped":
			o.State = Stopped
		}
	}
	mi, err := c.state.LoadTorrent(ih)
	switch {
	case err == nil:
		return c.AddTorrent(mi, o)
	case errors.Is(err, fs.ErrNotExist) && recErr == nil && rec.Magnet != "":
		return c.AddMagnet(rec.Magnet, o)
	case errors.Is(err, fs.ErrNotExist) && recErr != nil:
		return nil, recErr
	}
	return nil, err
}
