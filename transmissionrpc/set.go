package transmissionrpc

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/bt-go/bt/daemon"
)

var setKeys = []string{"ids", "bandwidthPriority", "downloadLimit", "downloadLimited", "files-wanted", "files-unwanted",
	"honorsSessionLimits", "labels", "peer-limit", "priority-high", "priority-low", "priority-normal",
	"seedIdleLimit", "seedIdleMode", "seedRatioLimit", "seedRatioMode", "uploadLimit", "uploadLimited",
	"queuePosition", "location", "trackerAdd", "trackerRemove", "trackerReplace", "trackerList", "group", "sequentialDownload"}

func (h *Handler) torrentSet(_ context.Context, a args) (any, error) {
	for _, k := range []string{"location", "trackerAdd", "trackerRemove", "trackerReplace", "trackerList", "group", "sequentialDownload"} {
		if a.has(k) {
			return nil, fmt.Errorf("torrent-set %q is not supported by bt daemon yet", k)
		}
	}
	// Parse everything before changing anything.
	var errs []error
	i64 := func(k string) (int64, bool) {
		v, ok, err := a.int(k)
		errs = append(errs, err)
		return v, ok
	}
	b := func(k string) (bool, bool) {
		v, ok, err := a.bool(k)
		errs = append(errs, err)
		return v, ok
	}
	il := func(k string) ([]int, bool) {
		v, ok, err := a.intList(k)
		errs = append(errs, err)
		return v, ok
	}
	bwPrio, hasBW := i64("bandwidthPriority")
	down, hasDown := i64("downloadLimit")
	downOn, hasDownOn := b("downloadLimited")
	up, hasUp := i64("uploadLimit")
	upOn, hasUpOn := b("uploadLimited")
	honors, hasHonors := b("honorsSessionLimits")
	peers, hasPeers := i64("peer-limit")
	idle, hasIdle := i64("seedIdleLimit")
	idleMode, hasIdleMode := i64("seedIdleMode")
	ratio, hasRatio, errRatio := a.float("seedRatioLimit")
	ratioMode, hasRatioMode := i64("seedRatioMode")
	_, _ = i64("queuePosition")
	labels, hasLabels, errLabels := a.strList("labels")
	wanted, hasWanted := il("files-wanted")
	unwanted, hasUnwanted := il("files-unwanted")
	high, hasHigh := il("priority-high")
	low, hasLow := il("priority-low")
	normal, hasNormal := il("priority-normal")
	errs = append(errs, errRatio, errLabels)
	if err := firstErr(errs...); err != nil {
		return nil, err
	}
	const maxKBps = 1 << 40
	if down < 0 || up < 0 || down > maxKBps || up > maxKBps {
		return nil, errors.New("speed limits must be between 0 and 2^40 kB/s")
	}
	list, err := h.selected(a)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		err := e.Update(func(in *daemon.Info) error {
			if hasBW {
				in.BandwidthPriority = int(bwPrio)
			}
			if hasDown {
				in.DownloadLimit = down * daemon.SpeedUnit
			}
			if hasDownOn {
				in.DownloadLimited = downOn
			}
			if hasUp {
				in.UploadLimit = up * daemon.SpeedUnit
			}
			if hasUpOn {
				in.UploadLimited = upOn
			}
			if hasHonors {
				in.HonorsSessionLimits = honors
			}
			if hasPeers {
				if peers < 0 || peers > 1<<16 {
					return errors.New("peer-limit out of range")
				}
				in.PeerLimit = int(peers)
			}
			if hasIdle {
				in.SeedIdleLimit = idle
			}
			if hasIdleMode {
				in.SeedIdleMode = int(idleMode)
			}
			if hasRatio {
				in.SeedRatioLimit = ratio
			}
			if hasRatioMode {
				in.SeedRatioMode = int(ratioMode)
			}
			if hasLabels {
				in.Labels = labels
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("torrent %d: %w", e.ID(), err)
		}
		// An empty list means every file.
		files := func(l []int) []int {
			if len(l) == 0 {
				return nil
			}
			return l
		}
		yes, no := true, false
		pl, pn, ph := -1, 0, 1
		for _, c := range []struct {
			on       bool
			l        []int
			wanted   *bool
			priority *int
		}{
			{hasWanted, wanted, &yes, nil}, {hasUnwanted, unwanted, &no, nil},
			{hasLow, low, nil, &pl}, {hasNormal, normal, nil, &pn}, {hasHigh, high, nil, &ph},
		} {
			if !c.on {
				continue
			}
			if err := e.SetFiles(files(c.l), c.wanted, c.priority); err != nil {
				return nil, fmt.Errorf("torrent %d: %w", e.ID(), err)
			}
		}
	}
	return nil, nil
}

// The session-get keys that are constants of bt daemon.
func (h *Handler) sessionConstants() obj {
	return obj{
		"alt-speed-time-begin": 540, "alt-speed-time-day": 127, "alt-speed-time-enabled": false, "alt-speed-time-end": 1020,
		"blocklist-enabled": false, "blocklist-size": 0, "blocklist-url": "",
		"cache-size-mb": 4, "dht-enabled": h.d.Client().Config().DHT, "encryption": "tolerated",
		"incomplete-dir": "", "incomplete-dir-enabled": false, "lpd-enabled": false,
		"peer-port-random-on-start": false, "pex-enabled": true, "port-forwarding-enabled": false,
		"queue-stalled-enabled": false, "queue-stalled-minutes": 30,
		"download-queue-enabled": false, "download-queue-size": 5, "seed-queue-enabled": false, "seed-queue-size": 10,
		"rename-partial-files": false, "script-torrent-done-enabled": false, "script-torrent-done-filename": "",
		"script-torrent-added-enabled": false, "script-torrent-added-filename": "",
		"script-torrent-done-seeding-enabled": false, "script-torrent-done-seeding-filename": "",
		"trash-original-torrent-files": false, "utp-enabled": false, "tcp-enabled": true,
		"anti-brute-force-enabled": true, "anti-brute-force-threshold": MaxLoginFailures,
		"default-trackers": "",
		"rpc-version":      RPCVersion, "rpc-version-minimum": RPCVersionMinimum, "rpc-version-semver": "5.3.0",
		"version": Version, "session-id": h.sessionID,
		"units": obj{
			"speed-units": []string{"kB/s", "MB/s", "GB/s", "TB/s"}, "speed-bytes": daemon.SpeedUnit,
			"size-units": []string{"kB", "MB", "GB", "TB"}, "size-bytes": 1000,
			"memory-units": []string{"KiB", "MiB", "GiB", "TiB"}, "memory-bytes": 1024,
		},
	}
}

func (h *Handler) sessionGet(_ context.Context, a args) (any, error) {
	names, hasFields, err := a.strList("fields")
	if err != nil {
		return nil, err
	}
	s := h.d.Settings()
	out := h.sessionConstants()
	for k, v := range (obj{
		"alt-speed-down": s.AltSpeedDown, "alt-speed-up": s.AltSpeedUp, "alt-speed-enabled": s.AltSpeedEnabled,
		"config-dir": h.d.ConfigDir(), "download-dir": s.DownloadDir,
		"idle-seeding-limit": s.IdleSeedingLimit, "idle-seeding-limit-enabled": s.IdleSeedingLimitEnabled,
		"peer-limit-global": s.PeerLimitGlobal, "peer-limit-per-torrent": s.PeerLimitPerTorrent,
		"peer-port": h.d.Port(), "seedRatioLimit": s.SeedRatioLimit, "seedRatioLimited": s.SeedRatioLimited,
		"speed-limit-down": s.SpeedLimitDown, "speed-limit-down-enabled": s.SpeedLimitDownEnabled,
		"speed-limit-up": s.SpeedLimitUp, "speed-limit-up-enabled": s.SpeedLimitUpEnabled,
		"start-added-torrents": s.StartAddedTorrents,
	}) {
		out[k] = v
	}
	if !hasFields || slices.Contains(names, "download-dir-free-space") {
		if free, err := h.freeSpace(context.Background(), args{"path": s.DownloadDir}); err == nil {
			out["download-dir-free-space"] = free.(obj)["size-bytes"]
		}
	}
	if hasFields {
		sel := obj{}
		for _, n := range names {
			if v, ok := out[n]; ok {
				sel[n] = v
			}
		}
		return sel, nil
	}
	return out, nil
}

func (h *Handler) sessionSet(_ context.Context, a args) (any, error) {
	consts := h.sessionConstants()
	var errs []error
	type setter func(s *daemon.Settings)
	var todo []setter
	for k := range a {
		switch k {
		case "alt-speed-down", "alt-speed-up", "speed-limit-down", "speed-limit-up", "idle-seeding-limit",
			"peer-limit-global", "peer-limit-per-torrent":
			v, _, err := a.int(k)
			errs = append(errs, err)
			if v < 0 || v > 1<<40 {
				errs = append(errs, fmt.Errorf("%s out of range", k))
			}
			todo = append(todo, func(s *daemon.Settings) {
				switch k {
				case "alt-speed-down":
					s.AltSpeedDown = v
				case "alt-speed-up":
					s.AltSpeedUp = v
				case "speed-limit-down":
					s.SpeedLimitDown = v
				case "speed-limit-up":
					s.SpeedLimitUp = v
				case "idle-seeding-limit":
					s.IdleSeedingLimit = v
				case "peer-limit-global":
					s.PeerLimitGlobal = int(v)
				case "peer-limit-per-torrent":
					s.PeerLimitPerTorrent = int(v)
				}
			})
		case "alt-speed-enabled", "speed-limit-down-enabled", "speed-limit-up-enabled", "idle-seeding-limit-enabled",
			"seedRatioLimited", "start-added-torrents":
			v, _, err := a.bool(k)
			errs = append(errs, err)
			todo = append(todo, func(s *daemon.Settings) {
				switch k {
				case "alt-speed-enabled":
					s.AltSpeedEnabled = v
				case "speed-limit-down-enabled":
					s.SpeedLimitDownEnabled = v
				case "speed-limit-up-enabled":
					s.SpeedLimitUpEnabled = v
				case "idle-seeding-limit-enabled":
					s.IdleSeedingLimitEnabled = v
				case "seedRatioLimited":
					s.SeedRatioLimited = v
				case "start-added-torrents":
					s.StartAddedTorrents = v
				}
			})
		case "seedRatioLimit":
			v, _, err := a.float(k)
			errs = append(errs, err)
			todo = append(todo, func(s *daemon.Settings) { s.SeedRatioLimit = v })
		case "download-dir":
			v, _, err := a.str(k)
			errs = append(errs, err)
			if err == nil && !filepath.IsAbs(v) {
				errs = append(errs, errors.New("download-dir must be an absolute path"))
			}
			todo = append(todo, func(s *daemon.Settings) { s.DownloadDir = v })
		default:
			cur, known := consts[k]
			switch {
			case k == "peer-port":
				v, _, err := a.int(k)
				if err != nil || int(v) != h.d.Port() {
					errs = append(errs, errors.New("peer-port is chosen when bt daemon starts (--port)"))
				}
			case !known:
				errs = append(errs, fmt.Errorf("unknown argument %q", k))
			case fmt.Sprint(cur) != fmt.Sprint(a[k]):
				errs = append(errs, fmt.Errorf("%q cannot be changed in bt daemon", k))
			}
		}
	}
	if err := firstErr(errs...); err != nil {
		return nil, err
	}
	return nil, h.d.SetSettings(func(s *daemon.Settings) error {
		for _, f := range todo {
			f(s)
		}
		return nil
	})
}
