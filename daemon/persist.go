package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/bt-go/bt/resume"
)

// daemonFile is daemon.json.
type daemonFile struct {
	Version  int                       `json:"version"`
	NextID   int                       `json:"next_id"`
	Settings *Settings                 `json:"settings,omitempty"`
	Stats    Stats                     `json:"stats"`
	Torrents map[string]*torrentRecord `json:"torrents"` // by hex info hash
}

const maxDaemonFile = 64 << 20

// load reads daemon.json, if there is one, into d and returns its torrent
// records. A damaged file is set aside and logged: the torrents come back
// with new ids and default settings rather than not at all.
func (d *Daemon) load() (map[string]*torrentRecord, error) {
	b, err := os.ReadFile(d.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	var f daemonFile
	if err := json.Unmarshal(b, &f); err != nil || len(b) > maxDaemonFile || f.Version != 1 {
		bad := d.file + ".bad"
		os.Rename(d.file, bad)
		d.log.Warn("daemon.json is damaged; set aside, ids and settings start afresh", "file", bad, "err", err)
		return nil, nil
	}
	if f.Settings != nil {
		d.settings = *f.Settings
	}
	d.total = f.Stats
	if f.NextID > 0 {
		d.nextID = f.NextID
	}
	return f.Torrents, nil
}

// save writes daemon.json atomically.
func (d *Daemon) save() error {
	d.mu.Lock()
	set := d.settings
	f := daemonFile{Version: 1, NextID: d.nextID, Settings: &set, Torrents: map[string]*torrentRecord{}}
	f.Stats = d.total
	f.Stats.UploadedBytes += d.session.UploadedBytes
	f.Stats.DownloadedBytes += d.session.DownloadedBytes
	f.Stats.SecondsActive += int64(time.Since(d.started) / time.Second)
	list := make([]*Torrent, 0, len(d.byID))
	for _, e := range d.byID {
		list = append(list, e)
	}
	d.mu.Unlock()
	for _, e := range list {
		e.mu.Lock()
		r := e.rec
		r.Labels = append([]string(nil), r.Labels...)
		r.FilePriority = append([]int(nil), r.FilePriority...)
		e.mu.Unlock()
		f.Torrents[e.t.InfoHash().String()] = &r
	}
	b, err := json.MarshalIndent(&f, "", "\t")
	if err != nil {
		return err
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	return resume.WriteFile(d.file, b, 0o600)
}

func (d *Daemon) saveLogged() {
	if err := d.save(); err != nil {
		d.log.Warn("writing daemon.json", "err", err)
	}
}

// sampler looks at the torrents every SampleInterval.
func (d *Daemon) sampler() {
	defer close(d.done)
	tick := time.NewTicker(d.cfg.SampleInterval)
	defer tick.Stop()
	lastSave := time.Now()
	for {
		select {
		case <-d.stop:
			return
		case <-d.client.Done():
			return
		case now := <-tick.C:
			d.sample(now)
			if now.Sub(lastSave) >= time.Minute {
				d.saveLogged()
				lastSave = now
			}
		}
	}
}

// sample updates every torrent's dates and the session's totals, and stops
// seeds that reached their limits.
func (d *Daemon) sample(now time.Time) {
	set := d.Settings()
	for _, e := range d.Torrents() {
		s := e.t.Stats()
		up, down := e.sample(now, s, set)
		d.mu.Lock()
		d.session.UploadedBytes += up
		d.session.DownloadedBytes += down
		d.mu.Unlock()
		if e.seedLimitReached(now, s, set) {
			d.log.Info("seeding limit reached; stopping", "id", e.id)
			e.t.Stop()
		}
	}
}
