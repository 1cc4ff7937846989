// Package daemon is bt's long-running service: one bt.Client running many
// torrents, each with a small integer id that stays the same across
// restarts, session settings (download directory, speed limits, the
// alternative speed mode) and cumulative statistics, all kept in the state
// directory beside the engine's own torrent list and resume records.
//
// A Daemon knows nothing of any protocol: package transmissionrpc puts the
// Transmission RPC on top of it, and cmd/bt's "bt daemon" runs both.
//
// # The state directory
//
// The engine records each torrent (its .torrent or magnet link, run state,
// file priorities and verified pieces: package resume) and restores them
// all when the daemon starts, without a full recheck. The daemon adds one
// file, daemon.json, with what the engine does not know: the ids, the
// dates Transmission reports, per-torrent limits and the session's
// settings and totals. It is written atomically (resume.WriteFile) whenever
// one of these changes and when the daemon closes. A torrent the engine
// restores but daemon.json does not mention (daemon.json lost, or a crash
// between the two writes) gets the next free id.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// Config configures a Daemon.
type Config struct {
	// Engine configures the bt.Client. Its StateDir is required: it is where
	// torrents persist. Its DataDir is the default download directory.
	Engine bt.Config
	// SampleInterval is how often the daemon looks at its torrents to keep
	// dates, activity and the seeding limits up to date. Default 1 s.
	SampleInterval time.Duration
	// WatchDir, when set, is watched for .torrent and .magnet files to add
	// (see watch.go); WatchInterval is how often it is looked at (default
	// 2 s).
	WatchDir      string
	WatchInterval time.Duration
	// HTTPClient fetches torrents added by URL. Default: a client with a
	// 30 s timeout.
	HTTPClient *http.Client
}

// MaxTorrentFile bounds a .torrent file the daemon reads or fetches.
const MaxTorrentFile = 16 << 20

// Errors of a Daemon.
var (
	ErrNoTorrent = errors.New("daemon: no such torrent")
	ErrClosed    = errors.New("daemon: closed")
)

// Daemon runs torrents for a remote. Its methods are safe for concurrent
// use.
type Daemon struct {
	cfg     Config
	client  *bt.Client
	log     *slog.Logger
	file    string // daemon.json
	started time.Time

	mu       sync.Mutex // guards everything below; never held across a call into the engine
	byID     map[int]*Torrent
	byHash   map[metainfo.Hash]*Torrent
	nextID   int
	settings Settings
	total    Stats // cumulative, of earlier sessions
	session  Stats // this session's (bytes are sampled)
	removed  []removal
	closed   bool

	saveMu sync.Mutex // serialises writes of daemon.json

	stop      chan struct{}
	done      chan struct{}
	watchDone chan struct{}
}

type removal struct {
	id int
	at time.Time
}

// Stats are the session statistics of Transmission's session-stats.
type Stats struct {
	UploadedBytes   int64 `json:"uploaded_bytes"`
	DownloadedBytes int64 `json:"downloaded_bytes"`
	FilesAdded      int64 `json:"files_added"`
	SessionCount    int64 `json:"session_count"`
	SecondsActive   int64 `json:"seconds_active"`
}

// New starts a daemon: the engine restores the torrents of the state
// directory and the daemon gives them back their ids and settings.
func New(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Engine.StateDir == "" {
		return nil, errors.New("daemon: a state directory is required")
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Engine.DataDir == "" {
		cfg.Engine.DataDir = "."
	}
	if abs, err := filepath.Abs(cfg.Engine.DataDir); err == nil {
		cfg.Engine.DataDir = abs
	}
	if cfg.Engine.Logger == nil {
		cfg.Engine.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := resume.Open(cfg.Engine.StateDir); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d := &Daemon{
		cfg: cfg, log: cfg.Engine.Logger, file: filepath.Join(cfg.Engine.StateDir, "daemon.json"),
		started: time.Now(),
		byID:    map[int]*Torrent{}, byHash: map[metainfo.Hash]*Torrent{}, nextID: 1,
		settings: defaultSettings(cfg.Engine),
		stop:     make(chan struct{}), done: make(chan struct{}), watchDone: make(chan struct{}),
	}
	if cfg.WatchInterval <= 0 {
		d.cfg.WatchInterval = 2 * time.Second
	}
	saved, err := d.load()
	if err != nil {
		return nil, err
	}
	d.applySettingsToConfig(&d.cfg.Engine)
	c, err := bt.NewClientContext(ctx, d.cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d.client = c
	d.total.SessionCount++
	d.session.SessionCount = 1
	d.adopt(saved)
	d.applyRateLimits()
	if err := d.save(); err != nil {
		d.log.Warn("writing daemon.json", "err", err)
	}
	go d.sampler()
	if cfg.WatchDir != "" {
		go d.watch()
	} else {
		close(d.watchDone)
	}
	return d, nil
}

// Client returns the engine.
func (d *Daemon) Client() *bt.Client { return d.client }

// adopt gives each torrent the engine restored its id and settings.
func (d *Daemon) adopt(saved map[string]*torrentRecord) {
	list := d.client.Torrents()
	slices.SortFunc(list, func(a, b *bt.Torrent) int {
		ra, rb := saved[a.InfoHash().String()], saved[b.InfoHash().String()]
		switch {
		case ra != nil && rb != nil:
			return ra.ID - rb.ID
		case ra != nil:
			return -1
		case rb != nil:
			return 1
		}
		return strings.Compare(a.InfoHash().String(), b.InfoHash().String())
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range list {
		rec := saved[t.InfoHash().String()]
		if rec == nil || rec.ID <= 0 || d.byID[rec.ID] != nil {
			rec = &torrentRecord{ID: d.nextID, Added: time.Now().Unix()}
		}
		e := newTorrent(d, t, rec)
		d.byID[e.id] = e
		d.byHash[t.InfoHash()] = e
		if e.id >= d.nextID {
			d.nextID = e.id + 1
		}
		e.applyLimits()
	}
}

// Close stops the daemon: every torrent writes its resume record and
// announces that it stopped, and daemon.json is written.
func (d *Daemon) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	<-d.watchDone
	d.sample(time.Now())
	err := d.client.Close()
	if serr := d.save(); serr != nil && err == nil {
		err = serr
	}
	return err
}

// Done is closed when the engine has closed (Close, or the context given
// to New ended).
func (d *Daemon) Done() <-chan struct{} { return d.client.Done() }

// Torrents returns the torrents ordered by id.
func (d *Daemon) Torrents() []*Torrent {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*Torrent, 0, len(d.byID))
	for _, e := range d.byID {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Torrent) int { return a.id - b.id })
	return out
}

// ByID returns the torrent of an id, or nil.
func (d *Daemon) ByID(id int) *Torrent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byID[id]
}

// ByHash returns the torrent of an info hash, or nil.
func (d *Daemon) ByHash(ih metainfo.Hash) *Torrent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byHash[ih]
}

// RecentlyRemoved returns the ids of torrents removed in the last window.
func (d *Daemon) RecentlyRemoved(window time.Duration) []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []int
	cut := time.Now().Add(-window)
	for _, r := range d.removed {
		if r.at.After(cut) {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// AddOptions says how to add a torrent.
type AddOptions struct {
	Dir    string // download directory; default the session's
	Paused bool   // added stopped
	// FilePriorities, indexed like Torrent.Files (without pad files):
	// bt.PrioritySkip skips a file. Nil: all normal.
	FilePriorities []int
	Peers          []string // host:port to connect to at once
	// DownloadLimit and UploadLimit in bytes/s (0: none).
	DownloadLimit, UploadLimit int64
}

// ErrDuplicate is returned, with the torrent already there, by Add.
var ErrDuplicate = errors.New("daemon: torrent already added")

// AddSource adds a torrent from a magnet link, an http(s) URL of a
// .torrent, or the path of a .torrent file on the daemon's machine.
func (d *Daemon) AddSource(ctx context.Context, source string, o AddOptions) (*Torrent, error) {
	switch {
	case strings.HasPrefix(strings.ToLower(source), "magnet:"):
		m, err := metainfo.ParseMagnet(source)
		if err != nil {
			return nil, err
		}
		if e := d.ByHash(m.InfoHash); e != nil {
			return e, ErrDuplicate
		}
		return d.add(o, func(to *bt.TorrentOptions) (*bt.Torrent, error) { return d.client.AddMagnet(source, to) }, m.InfoHash, nil)
	case strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://"):
		b, err := d.fetch(ctx, source)
		if err != nil {
			return nil, err
		}
		return d.AddMetainfo(b, o)
	}
	f, err := os.Open(source)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxTorrentFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxTorrentFile {
		return nil, fmt.Errorf("daemon: %s: torrent file too large", source)
	}
	return d.AddMetainfo(b, o)
}

func (d *Daemon) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("daemon: fetching %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxTorrentFile+1))
	if err != nil {
		return nil, fmt.Errorf("daemon: fetching %s: %w", url, err)
	}
	if len(b) > MaxTorrentFile {
		return nil, fmt.Errorf("daemon: fetching %s: torrent file too large", url)
	}
	return b, nil
}

// AddMetainfo adds a torrent from the bytes of a .torrent file.
func (d *Daemon) AddMetainfo(b []byte, o AddOptions) (*Torrent, error) {
	mi, err := metainfo.Parse(b)
	if err != nil {
		return nil, err
	}
	if e := d.ByHash(mi.InfoHash); e != nil {
		return e, ErrDuplicate
	}
	return d.add(o, func(to *bt.TorrentOptions) (*bt.Torrent, error) { return d.client.AddTorrent(mi, to) }, mi.InfoHash, mi)
}

func (d *Daemon) add(o AddOptions, add func(*bt.TorrentOptions) (*bt.Torrent, error), ih metainfo.Hash, mi *metainfo.MetaInfo) (*Torrent, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, ErrClosed
	}
	dir := d.settings.DownloadDir
	d.mu.Unlock()
	if o.Dir != "" {
		dir = o.Dir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	to := &bt.TorrentOptions{Dir: dir, MaxDownloadRate: o.DownloadLimit, MaxUploadRate: o.UploadLimit}
	if o.Paused {
		to.State = bt.Stopped
	}
	if o.FilePriorities != nil && mi != nil {
		to.FilePriorities = expandPriorities(mi, o.FilePriorities)
	}
	for _, p := range o.Peers {
		if ap, err := parseAddrPort(p); err == nil {
			to.Peers = append(to.Peers, ap)
		}
	}
	t, err := add(to)
	if errors.Is(err, bt.ErrDuplicateTorrent) {
		if e := d.ByHash(ih); e != nil {
			return e, ErrDuplicate
		}
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if e := d.byHash[ih]; e != nil { // added concurrently
		d.mu.Unlock()
		return e, ErrDuplicate
	}
	rec := &torrentRecord{ID: d.nextID, Added: time.Now().Unix(),
		DownloadLimit: o.DownloadLimit, DownloadLimited: o.DownloadLimit > 0,
		UploadLimit: o.UploadLimit, UploadLimited: o.UploadLimit > 0}
	d.nextID++
	e := newTorrent(d, t, rec)
	d.byID[e.id] = e
	d.byHash[ih] = e
	d.total.FilesAdded++
	d.session.FilesAdded++
	d.mu.Unlock()
	d.saveLogged()
	d.log.Info("torrent added", "id", e.id, "torrent", ih, "name", t.Name())
	return e, nil
}

// expandPriorities maps priorities indexed without pad files to the
// engine's file indices.
func expandPriorities(mi *metainfo.MetaInfo, prios []int) []int {
	layout := mi.Info.Layout()
	out := make([]int, len(layout.Files))
	j := 0
	for i, f := range layout.Files {
		out[i] = bt.PriorityNormal
		if f.Pad {
			continue
		}
		if j < len(prios) {
			out[i] = prios[j]
		}
		j++
	}
	return out
}

// Remove removes a torrent: it stops, announces that it stopped, leaves the
// state directory and, with deleteData, has its files deleted.
func (d *Daemon) Remove(e *Torrent, deleteData bool) error {
	d.mu.Lock()
	if d.byID[e.id] != e {
		d.mu.Unlock()
		return ErrNoTorrent
	}
	delete(d.byID, e.id)
	delete(d.byHash, e.t.InfoHash())
	d.removed = append(d.removed, removal{e.id, time.Now()})
	if len(d.removed) > 1000 {
		d.removed = d.removed[len(d.removed)-1000:]
	}
	d.mu.Unlock()
	files, dir := e.t.Files(), e.t.Dir()
	ih := e.t.InfoHash()
	err := e.t.Close()
	if deleteData {
		if derr := deleteLocalData(dir, ih, files); derr != nil && err == nil {
			err = derr
		}
	}
	d.saveLogged()
	d.log.Info("torrent removed", "id", e.id, "torrent", ih, "data deleted", deleteData)
	return err
}

// deleteLocalData deletes a torrent's files, its part file and the
// directories of a multi-file torrent that end up empty. Nothing outside
// dir is touched.
func deleteLocalData(dir string, ih metainfo.Hash, files []bt.File) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var first error
	rm := func(rel string) {
		if err := root.Remove(rel); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	dirs := map[string]bool{}
	for _, f := range files {
		rel, err := filepath.Rel(dir, f.Path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		if !f.Pad {
			rm(rel)
		}
		for p := filepath.Dir(rel); p != "." && p != string(filepath.Separator); p = filepath.Dir(p) {
			dirs[p] = true
		}
	}
	rm("." + ih.String() + ".parts")
	// Deepest first, so that parents are empty when their turn comes.
	list := make([]string, 0, len(dirs))
	for p := range dirs {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b string) int {
		return strings.Count(b, string(filepath.Separator)) - strings.Count(a, string(filepath.Separator))
	})
	for _, p := range list {
		root.Remove(p) // only if empty; a failure leaves it
	}
	return first
}
