package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The watch directory: a .torrent file, or a .magnet file holding a magnet
// link, dropped in Config.WatchDir is added, then renamed with ".added"
// appended (".invalid" when it cannot be added) so it is not added twice.
// The directory is polled, which works on every file system (network ones
// included, where change notifications do not); a file is taken once its
// size and modification time held still for one poll, so one still being
// written is left for later.

type watchSeen struct {
	size int64
	mod  time.Time
}

func (d *Daemon) watch() {
	defer close(d.watchDone)
	tick := time.NewTicker(d.cfg.WatchInterval)
	defer tick.Stop()
	seen := map[string]watchSeen{}
	for {
		d.scanWatch(seen)
		select {
		case <-d.stop:
			return
		case <-d.client.Done():
			return
		case <-tick.C:
		}
	}
}

func (d *Daemon) scanWatch(seen map[string]watchSeen) {
	entries, err := os.ReadDir(d.cfg.WatchDir)
	if err != nil {
		d.log.Warn("reading the watch directory", "dir", d.cfg.WatchDir, "err", err)
		return
	}
	now := map[string]bool{}
	for _, ent := range entries {
		name := ent.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !ent.Type().IsRegular() || (ext != ".torrent" && ext != ".magnet") || strings.HasPrefix(name, ".") {
			continue
		}
		fi, err := ent.Info()
		if err != nil {
			continue
		}
		now[name] = true
		cur := watchSeen{fi.Size(), fi.ModTime()}
		if prev, ok := seen[name]; !ok || prev != cur {
			seen[name] = cur // wait for it to hold still
			continue
		}
		delete(seen, name)
		path := filepath.Join(d.cfg.WatchDir, name)
		source := path
		if ext == ".magnet" {
			link, err := readMagnetFile(path)
			if err != nil {
				d.log.Warn("watch directory: not a magnet link", "file", path, "err", err)
				os.Rename(path, path+".invalid")
				continue
			}
			source = link
		}
		e, err := d.AddSource(context.Background(), source, AddOptions{Paused: !d.Settings().StartAddedTorrents})
		switch {
		case err == nil || errors.Is(err, ErrDuplicate):
			d.log.Info("watch directory: added", "file", path, "id", e.ID())
			if err := os.Rename(path, path+".added"); err != nil {
				d.log.Warn("watch directory: renaming", "file", path, "err", err)
			}
		case errors.Is(err, ErrClosed):
			return
		default:
			d.log.Warn("watch directory: cannot add", "file", path, "err", err)
			os.Rename(path, path+".invalid")
		}
	}
	for name := range seen {
		if !now[name] {
			delete(seen, name)
		}
	}
}

// readMagnetFile reads the first line of a small file holding a magnet link.
func readMagnetFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	link, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(strings.ToLower(link), "magnet:") {
		return "", errors.New("the file holds no magnet link")
	}
	return link, nil
}
