package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// Torrent is one torrent of the daemon: the engine's bt.Torrent and what
// the daemon keeps beside it.
type Torrent struct {
	d  *Daemon
	t  *bt.Torrent
	id int

	mu  sync.Mutex // guards rec and the sampling state
	rec torrentRecord
	// Sampling state.
	lastUp, lastDown int64 // session totals at the last sample
	wasComplete      bool
	// recorded is the verified pieces of the resume record, shown while
	// the torrent is stopped: the engine checks nothing until a start.
	recorded *bitfield.Bitfield
}

// torrentRecord is what daemon.json keeps of a torrent. Dates are Unix
// seconds; limits bytes per second.
type torrentRecord struct {
	ID                 int   `json:"id"`
	Added              int64 `json:"added"`
	Done               int64 `json:"done,omitempty"`
	Activity           int64 `json:"activity,omitempty"`
	Started            int64 `json:"started,omitempty"`
	SecondsDownloading int64 `json:"seconds_downloading,omitempty"`
	SecondsSeeding     int64 `json:"seconds_seeding,omitempty"`

	DownloadLimit   int64 `json:"download_limit,omitempty"`
	DownloadLimited bool  `json:"download_limited,omitempty"`
	UploadLimit     int64 `json:"upload_limit,omitempty"`
	UploadLimited   bool  `json:"upload_limited,omitempty"`
	// IgnoreSessionLimits is Transmission's honorsSessionLimits negated.
	IgnoreSessionLimits bool `json:"ignore_session_limits,omitempty"`

	SeedRatioMode  int     `json:"seed_ratio_mode,omitempty"` // 0 global, 1 own, 2 unlimited
	SeedRatioLimit float64 `json:"seed_ratio_limit,omitempty"`
	SeedIdleMode   int     `json:"seed_idle_mode,omitempty"`
	SeedIdleLimit  int64   `json:"seed_idle_limit,omitempty"` // minutes

	PeerLimit         int      `json:"peer_limit,omitempty"`
	BandwidthPriority int      `json:"bandwidth_priority,omitempty"`
	Labels            []string `json:"labels,omitempty"`
	// FilePriority is each file's priority as a remote sees it (-1 low,
	// 0 normal, 1 high), kept while the file is not wanted. Indexed like
	// Files (no pad files).
	FilePriority []int `json:"file_priority,omitempty"`
	// Stopped by a seeding limit: stays stopped until started by hand.
	LimitStopped bool `json:"limit_stopped,omitempty"`
}

func newTorrent(d *Daemon, t *bt.Torrent, rec *torrentRecord) *Torrent {
	e := &Torrent{d: d, t: t, id: rec.ID, rec: *rec}
	e.lastUp, e.lastDown = t.Uploaded(), t.Downloaded()
	e.wasComplete = t.Complete()
	if e.rec.Started == 0 {
		e.rec.Started = time.Now().Unix()
	}
	return e
}

// ID returns the torrent's id, which stays the same across restarts.
func (e *Torrent) ID() int { return e.id }

// Engine returns the engine's torrent.
func (e *Torrent) Engine() *bt.Torrent { return e.t }

// Info is the daemon's own view of a torrent: dates and settings.
type Info struct {
	Added, Done, Activity, Started     time.Time // zero: never
	SecondsDownloading, SecondsSeeding int64
	// DownloadLimit and UploadLimit are in bytes/s; they apply when the
	// matching Limited is set.
	DownloadLimit, UploadLimit     int64
	DownloadLimited, UploadLimited bool
	HonorsSessionLimits            bool
	SeedRatioMode                  int
	SeedRatioLimit                 float64
	SeedIdleMode                   int
	SeedIdleLimit                  int64 // minutes
	PeerLimit                      int
	BandwidthPriority              int
	Labels                         []string
	// LimitStopped: a seeding limit stopped the torrent (Transmission's
	// isFinished).
	LimitStopped bool
}

func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// Info returns the torrent's dates and settings.
func (e *Torrent) Info() Info {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.rec
	return Info{
		Added: unix(r.Added), Done: unix(r.Done), Activity: unix(r.Activity), Started: unix(r.Started),
		SecondsDownloading: r.SecondsDownloading, SecondsSeeding: r.SecondsSeeding,
		DownloadLimit: r.DownloadLimit, UploadLimit: r.UploadLimit,
		DownloadLimited: r.DownloadLimited, UploadLimited: r.UploadLimited,
		HonorsSessionLimits: !r.IgnoreSessionLimits,
		SeedRatioMode:       r.SeedRatioMode, SeedRatioLimit: r.SeedRatioLimit,
		SeedIdleMode: r.SeedIdleMode, SeedIdleLimit: r.SeedIdleLimit,
		PeerLimit: r.PeerLimit, BandwidthPriority: r.BandwidthPriority,
		Labels:       append([]string(nil), r.Labels...),
		LimitStopped: r.LimitStopped,
	}
}

// Update changes the torrent's settings: f edits a copy of Info, which is
// then applied and recorded.
func (e *Torrent) Update(f func(*Info) error) error {
	in := e.Info()
	if err := f(&in); err != nil {
		return err
	}
	if in.DownloadLimit < 0 || in.UploadLimit < 0 || in.SeedIdleLimit < 0 || in.PeerLimit < 0 || in.SeedRatioLimit < 0 {
		return errors.New("negative limit")
	}
	if in.SeedRatioMode < 0 || in.SeedRatioMode > 2 || in.SeedIdleMode < 0 || in.SeedIdleMode > 2 {
		return errors.New("invalid seeding limit mode")
	}
	if in.BandwidthPriority < -1 || in.BandwidthPriority > 1 {
		return errors.New("invalid bandwidth priority")
	}
	e.mu.Lock()
	r := &e.rec
	r.DownloadLimit, r.UploadLimit, r.DownloadLimited, r.UploadLimited = in.DownloadLimit, in.UploadLimit, in.DownloadLimited, in.UploadLimited
	r.IgnoreSessionLimits = !in.HonorsSessionLimits
	r.SeedRatioMode, r.SeedRatioLimit, r.SeedIdleMode, r.SeedIdleLimit = in.SeedRatioMode, in.SeedRatioLimit, in.SeedIdleMode, in.SeedIdleLimit
	r.PeerLimit, r.BandwidthPriority, r.Labels = in.PeerLimit, in.BandwidthPriority, in.Labels
	e.mu.Unlock()
	e.applyLimits()
	e.d.saveLogged()
	return nil
}

// applyLimits gives the engine the torrent's rate and peer limits.
func (e *Torrent) applyLimits() {
	e.mu.Lock()
	var down, up int64
	if e.rec.DownloadLimited {
		down = max(e.rec.DownloadLimit, 1)
	}
	if e.rec.UploadLimited {
		up = max(e.rec.UploadLimit, 1)
	}
	peers := e.rec.PeerLimit
	e.mu.Unlock()
	e.t.SetRateLimits(down, up)
	if peers > 0 {
		e.t.SetMaxConns(peers)
	}
}

// Have returns the verified pieces. A torrent restored stopped has not
// been checked by the engine yet: its resume record speaks for it.
func (e *Torrent) Have() bitfield.Bitfield {
	b := e.t.Bitfield()
	if b.Count() > 0 || e.t.State() != bt.Stopped {
		return b
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.recorded == nil {
		r := bitfield.New(0)
		if rec, err := (&resume.Dir{Path: e.d.cfg.Engine.StateDir}).Load(e.t.InfoHash()); err == nil {
			r = rec.Have
		}
		e.recorded = &r
	}
	if e.recorded.Len() == b.Len() {
		return e.recorded.Clone()
	}
	return b
}

// Start starts the torrent (Transmission's torrent-start).
func (e *Torrent) Start() error {
	e.mu.Lock()
	e.recorded = nil
	e.rec.LimitStopped = false
	e.rec.Started = time.Now().Unix()
	e.mu.Unlock()
	err := e.t.Start()
	e.d.saveLogged()
	return err
}

// Stop stops the torrent: its connections close and it announces that it
// stopped; it is restored stopped.
func (e *Torrent) Stop() error { return e.t.Stop() }

// Verify checks the torrent's data again.
func (e *Torrent) Verify() error { return e.t.HashCheck() }

// Status is a torrent's state in Transmission's terms.
type Status int

// The statuses, with Transmission's numbers.
const (
	StatusStopped Status = iota
	StatusCheckWait
	StatusCheck
	StatusDownloadWait
	StatusDownload
	StatusSeedWait
	StatusSeed
)

// Status returns the torrent's status from its stats.
func StatusOf(s bt.Stats) Status {
	switch {
	case s.Checking:
		return StatusCheck
	case s.State != bt.Started:
		return StatusStopped
	case s.Complete:
		return StatusSeed
	}
	return StatusDownload
}

// File is a torrent's file as a remote sees it: pad files are left out,
// and names are relative to the download directory with "/" between
// elements.
type File struct {
	Name           string
	Length         int64
	BytesCompleted int64
	Wanted         bool
	Priority       int // -1 low, 0 normal, 1 high
	index          int // the engine's index
}

// Files returns the torrent's files (none before its metadata is known).
func (e *Torrent) Files() []File {
	if !e.t.HasMetadata() {
		return nil
	}
	layout := e.t.Metadata().Info.Layout()
	have := e.Have()
	engine := e.t.Files()
	e.mu.Lock()
	prios := append([]int(nil), e.rec.FilePriority...)
	e.mu.Unlock()
	var out []File
	for i, f := range layout.Files {
		if f.Pad {
			continue
		}
		ff := File{Name: strings.Join(f.Path, "/"), Length: f.Length, index: i, Wanted: true}
		if i < len(engine) {
			ff.Wanted = engine[i].Priority != bt.PrioritySkip
			ff.Priority = rpcPriority(engine[i].Priority)
		}
		if j := len(out); j < len(prios) && !ff.Wanted {
			ff.Priority = prios[j]
		}
		if f.Length > 0 && have.Len() == layout.NumPieces {
			first, end := layout.FilePieces(i)
			for p := first; p < end; p++ {
				if !have.Has(p) {
					continue
				}
				lo, hi := max(layout.PieceOffset(p), f.Offset), min(layout.PieceOffset(p)+layout.PieceSize(p), f.Offset+f.Length)
				if hi > lo {
					ff.BytesCompleted += hi - lo
				}
			}
		}
		out = append(out, ff)
	}
	return out
}

func rpcPriority(p int) int {
	switch {
	case p == bt.PrioritySkip:
		return 0
	case p < bt.PriorityNormal:
		return -1
	case p > bt.PriorityNormal:
		return 1
	}
	return 0
}

func enginePriority(p int) int {
	switch {
	case p < 0:
		return bt.PriorityLow
	case p > 0:
		return bt.PriorityHigh
	}
	return bt.PriorityNormal
}

// SetFiles changes files' wanted flag and priority: files lists indices as
// Files numbers them (nil: all files); wanted (when not nil) and priority
// (when not nil: -1, 0 or 1) are applied to each.
func (e *Torrent) SetFiles(files []int, wanted *bool, priority *int) error {
	all := e.Files()
	if all == nil {
		return errors.New("the torrent's metadata is not known yet")
	}
	if files == nil {
		files = make([]int, len(all))
		for i := range files {
			files[i] = i
		}
	}
	for _, i := range files {
		if i < 0 || i >= len(all) {
			return fmt.Errorf("file index %d out of range", i)
		}
	}
	e.mu.Lock()
	if len(e.rec.FilePriority) != len(all) {
		e.rec.FilePriority = make([]int, len(all))
		for i, f := range all {
			e.rec.FilePriority[i] = f.Priority
		}
	}
	for _, i := range files {
		if priority != nil {
			e.rec.FilePriority[i] = max(-1, min(1, *priority))
		}
	}
	prios := append([]int(nil), e.rec.FilePriority...)
	e.mu.Unlock()
	for _, i := range files {
		w := all[i].Wanted
		if wanted != nil {
			w = *wanted
		}
		p := bt.PrioritySkip
		if w {
			p = enginePriority(prios[i])
		}
		if err := e.t.SetFilePriority(all[i].index, p); err != nil {
			return err
		}
	}
	e.d.saveLogged()
	return nil
}

// sample updates the torrent's dates and the session's byte counts, and
// applies the seeding limits.
func (e *Torrent) sample(now time.Time, s bt.Stats, set Settings) (up, down int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.rec
	up, down = s.Uploaded-e.lastUp, s.Downloaded-e.lastDown
	if up < 0 {
		up = 0
	}
	if down < 0 {
		down = 0
	}
	e.lastUp, e.lastDown = s.Uploaded, s.Downloaded
	if up > 0 || down > 0 {
		r.Activity = now.Unix()
	}
	if s.Complete && !e.wasComplete && r.Done == 0 || s.Complete && r.Done == 0 && s.NumPieces > 0 {
		r.Done = now.Unix()
	}
	e.wasComplete = s.Complete
	if s.State == bt.Started && !s.Checking {
		if s.Complete {
			r.SecondsSeeding++
		} else {
			r.SecondsDownloading++
		}
	}
	return up, down
}

// RatioLimit resolves a torrent's seed ratio mode (0 the session's limit,
// 1 its own, 2 none) into whether a ratio limit applies, and which.
func RatioLimit(mode int, own float64, set Settings) (on bool, ratio float64) {
	return limitFor(mode, own, set.SeedRatioLimited, set.SeedRatioLimit)
}

// limitFor resolves a per-torrent limit mode as Transmission's
// seedRatioMode and seedIdleMode mean it: 0 the session's, 1 the
// torrent's own, 2 none.
func limitFor[T any](mode int, own T, sessionOn bool, session T) (bool, T) {
	switch mode {
	case 1:
		return true, own
	case 2:
		return false, session
	}
	return sessionOn, session
}

// seedLimitReached reports whether a complete, started torrent reached its
// ratio or idle limit.
func (e *Torrent) seedLimitReached(now time.Time, s bt.Stats, set Settings) bool {
	if !s.Complete || s.State != bt.Started || s.Checking || s.Size == 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.rec
	if ratioOn, ratio := RatioLimit(r.SeedRatioMode, r.SeedRatioLimit, set); ratioOn {
		if float64(e.t.TotalUploaded()) >= ratio*float64(s.Size) {
			r.LimitStopped = true
			return true
		}
	}
	if idleOn, idle := limitFor(r.SeedIdleMode, r.SeedIdleLimit, set.IdleSeedingLimitEnabled, set.IdleSeedingLimit); idleOn {
		last := max(r.Activity, r.Done, r.Started)
		if now.Unix()-last >= idle*60 {
			r.LimitStopped = true
			return true
		}
	}
	return false
}

// Magnet returns the torrent's magnet link.
func (e *Torrent) Magnet() string {
	if e.t.HasMetadata() {
		return e.t.Metadata().Magnet().String()
	}
	m := metainfo.Magnet{InfoHash: e.t.InfoHash(), Name: e.t.Name()}
	return m.String()
}

func parseAddrPort(s string) (netip.AddrPort, error) { return netip.ParseAddrPort(s) }

// Reannounce asks the trackers for peers again.
func (e *Torrent) Reannounce() error { return e.t.Reannounce() }
