package daemon

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/bt-go/bt"
)

// Settings are the session's settings, in Transmission's units: speeds in
// kB/s (1,000 bytes per second), idle limits in minutes.
type Settings struct {
	DownloadDir string `json:"download_dir"`

	SpeedLimitDown        int64 `json:"speed_limit_down"`
	SpeedLimitDownEnabled bool  `json:"speed_limit_down_enabled"`
	SpeedLimitUp          int64 `json:"speed_limit_up"`
	SpeedLimitUpEnabled   bool  `json:"speed_limit_up_enabled"`
	AltSpeedDown          int64 `json:"alt_speed_down"`
	AltSpeedUp            int64 `json:"alt_speed_up"`
	AltSpeedEnabled       bool  `json:"alt_speed_enabled"`

	SeedRatioLimit          float64 `json:"seed_ratio_limit"`
	SeedRatioLimited        bool    `json:"seed_ratio_limited"`
	IdleSeedingLimit        int64   `json:"idle_seeding_limit"`
	IdleSeedingLimitEnabled bool    `json:"idle_seeding_limit_enabled"`

	PeerLimitGlobal     int `json:"peer_limit_global"`
	PeerLimitPerTorrent int `json:"peer_limit_per_torrent"`

	StartAddedTorrents bool `json:"start_added_torrents"`
}

// SpeedUnit is Transmission's kB: speeds in Settings count in it.
const SpeedUnit = 1000

func defaultSettings(cfg bt.Config) Settings {
	s := Settings{
		DownloadDir:    cfg.DataDir,
		SpeedLimitDown: 100, SpeedLimitUp: 100, AltSpeedDown: 50, AltSpeedUp: 50,
		SeedRatioLimit: 2, IdleSeedingLimit: 30,
		PeerLimitGlobal: 200, PeerLimitPerTorrent: 50,
		StartAddedTorrents: true,
	}
	if cfg.MaxConns > 0 {
		s.PeerLimitGlobal = cfg.MaxConns
	}
	if cfg.MaxConnsPerTorrent > 0 {
		s.PeerLimitPerTorrent = cfg.MaxConnsPerTorrent
	}
	if cfg.MaxDownloadRate > 0 {
		s.SpeedLimitDown, s.SpeedLimitDownEnabled = max(cfg.MaxDownloadRate/SpeedUnit, 1), true
	}
	if cfg.MaxUploadRate > 0 {
		s.SpeedLimitUp, s.SpeedLimitUpEnabled = max(cfg.MaxUploadRate/SpeedUnit, 1), true
	}
	return s
}

// Settings returns the session's settings.
func (d *Daemon) Settings() Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settings
}

// SetSettings changes the session's settings: f edits a copy, which is
// checked, applied and recorded.
func (d *Daemon) SetSettings(f func(*Settings) error) error {
	s := d.Settings()
	if err := f(&s); err != nil {
		return err
	}
	if s.SpeedLimitDown < 0 || s.SpeedLimitUp < 0 || s.AltSpeedDown < 0 || s.AltSpeedUp < 0 ||
		s.SeedRatioLimit < 0 || s.IdleSeedingLimit < 0 || s.PeerLimitGlobal < 0 || s.PeerLimitPerTorrent < 0 {
		return errors.New("negative limit")
	}
	if s.DownloadDir == "" || !filepath.IsAbs(s.DownloadDir) {
		return errors.New("download-dir must be an absolute path")
	}
	d.mu.Lock()
	d.settings = s
	d.mu.Unlock()
	d.applyRateLimits()
	d.saveLogged()
	return nil
}

// rateLimits returns the session's limits in bytes/s (0: none).
func (s Settings) rateLimits() (down, up int64) {
	switch {
	case s.AltSpeedEnabled:
		down, up = s.AltSpeedDown*SpeedUnit, s.AltSpeedUp*SpeedUnit
		// Transmission's alternative limits of 0 mean "nothing moves"; the
		// engine's 0 means unlimited, so the least it can do is 1 byte/s.
		down, up = max(down, 1), max(up, 1)
		return down, up
	}
	if s.SpeedLimitDownEnabled {
		down = max(s.SpeedLimitDown*SpeedUnit, 1)
	}
	if s.SpeedLimitUpEnabled {
		up = max(s.SpeedLimitUp*SpeedUnit, 1)
	}
	return down, up
}

func (d *Daemon) applyRateLimits() {
	down, up := d.Settings().rateLimits()
	d.client.SetRateLimits(down, up)
}

// applySettingsToConfig gives the engine the settings it takes at start.
func (d *Daemon) applySettingsToConfig(cfg *bt.Config) {
	s := d.settings
	cfg.MaxDownloadRate, cfg.MaxUploadRate = s.rateLimits()
	if s.PeerLimitGlobal > 0 {
		cfg.MaxConns = s.PeerLimitGlobal
	}
	if s.PeerLimitPerTorrent > 0 {
		cfg.MaxConnsPerTorrent = s.PeerLimitPerTorrent
	}
}

// SessionStats returns this session's statistics and the cumulative ones.
func (d *Daemon) SessionStats() (current, cumulative Stats) {
	d.mu.Lock()
	defer d.mu.Unlock()
	current, cumulative = d.session, d.total
	current.SecondsActive = int64(time.Since(d.started) / time.Second)
	cumulative.SecondsActive += current.SecondsActive
	cumulative.UploadedBytes += current.UploadedBytes
	cumulative.DownloadedBytes += current.DownloadedBytes
	return current, cumulative
}

// Port returns the listening port for peers.
func (d *Daemon) Port() int { return d.client.Port() }

// ConfigDir returns the state directory.
func (d *Daemon) ConfigDir() string { return d.cfg.Engine.StateDir }
