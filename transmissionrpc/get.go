package transmissionrpc

import (
	"context"
	"encoding/base64"
	"math"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/daemon"
	"github.com/bt-go/bt/tracker"
)

// Transmission's eta values when there is no number to give.
const (
	etaNotAvailable = -1
	etaUnknown      = -2
)

// Transmission's error codes of a torrent.
const (
	errNone         = 0
	errTrackerWarn  = 1
	errTrackerError = 2
	errLocal        = 3
)

// view gathers what torrent-get reports of one torrent, asking the engine
// for each part at most once and only when a field needs it.
type view struct {
	h *Handler
	e *daemon.Torrent
	t *bt.Torrent

	stats    *bt.Stats
	info     *daemon.Info
	peers    []bt.PeerInfo
	gotPeers bool
	files    []daemon.File
	gotFiles bool
	trackers []tracker.TierStatus
	gotTrk   bool
}

func (v *view) s() *bt.Stats {
	if v.stats == nil {
		s := v.t.Stats()
		v.stats = &s
	}
	return v.stats
}

func (v *view) in() *daemon.Info {
	if v.info == nil {
		in := v.e.Info()
		v.info = &in
	}
	return v.info
}

func (v *view) peerList() []bt.PeerInfo {
	if !v.gotPeers {
		v.peers, v.gotPeers = v.t.Peers(), true
	}
	return v.peers
}

func (v *view) fileList() []daemon.File {
	if !v.gotFiles {
		v.files, v.gotFiles = v.e.Files(), true
	}
	return v.files
}

func (v *view) trackerList() []tracker.TierStatus {
	if !v.gotTrk {
		v.trackers, v.gotTrk = v.t.Trackers(), true
	}
	return v.trackers
}

// sizeWhenDone is the bytes of the wanted files.
func (v *view) sizeWhenDone() int64 {
	s := v.s()
	if s.NumPieces == 0 {
		return 0
	}
	var n int64
	for _, f := range v.t.Files() {
		if !f.Pad && f.Priority != bt.PrioritySkip {
			n += f.Length
		}
	}
	return n
}

func (v *view) left() int64 {
	s := v.s()
	if s.State == bt.Stopped && s.Pieces == 0 && s.NumPieces > 0 {
		// Not checked since a restart: the files' recorded pieces count.
		var n int64
		for _, f := range v.fileList() {
			if f.Wanted {
				n += f.Length - f.BytesCompleted
			}
		}
		return n
	}
	return max(s.Left, 0)
}

// haveValid is the verified bytes of the files (pad files, which bt
// never writes and remotes never see, left out).
func (v *view) haveValid() int64 {
	var n int64
	for _, f := range v.fileList() {
		n += f.BytesCompleted
	}
	return n
}

// totalSize is the bytes of the files, pad files left out.
func (v *view) totalSize() int64 {
	var n int64
	for _, f := range v.t.Files() {
		if !f.Pad {
			n += f.Length
		}
	}
	return n
}

func (v *view) status() int { return int(daemon.StatusOf(*v.s())) }

func (v *view) errCode() (int, string) {
	if err := v.t.Err(); err != nil {
		return errLocal, err.Error()
	}
	for _, tr := range v.trackerList() {
		if tr.LastError != nil && tr.Failures > 0 {
			return errTrackerError, "Tracker gave an error: " + tr.LastError.Error()
		}
	}
	return errNone, ""
}

func (v *view) ratio() float64 {
	down := v.t.TotalDownloaded()
	size := v.s().Size
	base := down
	if base == 0 {
		base = size // a seed from the start: its data counts
	}
	if base == 0 {
		return -1 // Transmission's TR_RATIO_NA
	}
	return float64(v.t.TotalUploaded()) / float64(base)
}

func (v *view) eta() int64 {
	s := v.s()
	switch v.status() {
	case int(daemon.StatusDownload):
		if s.DownloadRate < 1 || s.NumPieces == 0 {
			return etaUnknown
		}
		return int64(float64(v.left()) / s.DownloadRate)
	case int(daemon.StatusSeed):
		in := v.in()
		set := v.h.d.Settings()
		on, goal := daemon.RatioLimit(in.SeedRatioMode, in.SeedRatioLimit, set)
		if !on {
			return etaNotAvailable
		}
		if s.UploadRate < 1 {
			return etaUnknown
		}
		rest := goal*float64(s.Size) - float64(v.t.TotalUploaded())
		return max(int64(rest/s.UploadRate), 0)
	}
	return etaNotAvailable
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// kBps converts a limit in bytes/s to Transmission's kB/s.
func kBps(b int64) int64 { return b / daemon.SpeedUnit }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fields maps each torrent-get field to its value.
var fields = map[string]func(v *view) any{
	"activityDate":      func(v *view) any { return unixOrZero(v.in().Activity) },
	"addedDate":         func(v *view) any { return unixOrZero(v.in().Added) },
	"bandwidthPriority": func(v *view) any { return v.in().BandwidthPriority },
	"comment":           func(v *view) any { return metaString(v, func(c, _ string) string { return c }) },
	"corruptEver":       func(v *view) any { return 0 },
	"creator":           func(v *view) any { return metaString(v, func(_, c string) string { return c }) },
	"dateCreated": func(v *view) any {
		if v.t.HasMetadata() {
			return v.t.Metadata().CreationDate
		}
		return 0
	},
	"desiredAvailable": func(v *view) any { return v.left() },
	"doneDate":         func(v *view) any { return unixOrZero(v.in().Done) },
	"downloadDir":      func(v *view) any { return v.t.Dir() },
	"downloadedEver":   func(v *view) any { return v.t.TotalDownloaded() },
	"downloadLimit":    func(v *view) any { return kBps(v.in().DownloadLimit) },
	"downloadLimited":  func(v *view) any { return v.in().DownloadLimited },
	"editDate":         func(v *view) any { return 0 },
	"error":            func(v *view) any { c, _ := v.errCode(); return c },
	"errorString":      func(v *view) any { _, s := v.errCode(); return s },
	"eta":              func(v *view) any { return v.eta() },
	"etaIdle":          func(v *view) any { return etaNotAvailable },
	"file-count":       func(v *view) any { return len(v.fileList()) },
	"files": func(v *view) any {
		out := make([]obj, 0, len(v.fileList()))
		for _, f := range v.fileList() {
			out = append(out, obj{"bytesCompleted": f.BytesCompleted, "length": f.Length, "name": f.Name})
		}
		return out
	},
	"fileStats": func(v *view) any {
		out := make([]obj, 0, len(v.fileList()))
		for _, f := range v.fileList() {
			out = append(out, obj{"bytesCompleted": f.BytesCompleted, "wanted": f.Wanted, "priority": f.Priority})
		}
		return out
	},
	"group":               func(v *view) any { return "" },
	"hashString":          func(v *view) any { return v.t.InfoHash().String() },
	"haveUnchecked":       func(v *view) any { return 0 },
	"haveValid":           func(v *view) any { return v.haveValid() },
	"honorsSessionLimits": func(v *view) any { return v.in().HonorsSessionLimits },
	"id":                  func(v *view) any { return v.e.ID() },
	"isFinished":          func(v *view) any { return v.in().LimitStopped && v.s().State != bt.Started },
	"isPrivate":           func(v *view) any { return v.t.HasMetadata() && v.t.Metadata().Info.Private },
	"isStalled": func(v *view) any {
		s := v.s()
		return s.State == bt.Started && !s.Checking && s.DownloadRate < 1 && s.UploadRate < 1 && s.Peers == 0
	},
	"labels":                  func(v *view) any { return nonNil(v.in().Labels) },
	"leftUntilDone":           func(v *view) any { return v.left() },
	"magnetLink":              func(v *view) any { return v.e.Magnet() },
	"manualAnnounceTime":      func(v *view) any { return -1 },
	"maxConnectedPeers":       func(v *view) any { return peerLimit(v) },
	"metadataPercentComplete": func(v *view) any { return float64(boolInt(v.t.HasMetadata())) },
	"name":                    func(v *view) any { return v.t.Name() },
	"peer-limit":              func(v *view) any { return peerLimit(v) },
	"peers": func(v *view) any {
		out := make([]obj, 0, len(v.peerList()))
		for _, p := range v.peerList() {
			out = append(out, peerObj(p))
		}
		return out
	},
	"peersConnected": func(v *view) any { return len(v.peerList()) },
	"peersFrom": func(v *view) any {
		in := 0
		for _, p := range v.peerList() {
			in += boolInt(p.Flags.Incoming)
		}
		return obj{"fromCache": 0, "fromDht": 0, "fromIncoming": in, "fromLpd": 0, "fromLtep": 0,
			"fromPex": 0, "fromTracker": len(v.peerList()) - in}
	},
	"peersGettingFromUs": func(v *view) any {
		n := 0
		for _, p := range v.peerList() {
			n += boolInt(p.UploadRate >= 1)
		}
		return n
	},
	"peersSendingToUs": func(v *view) any {
		n := 0
		for _, p := range v.peerList() {
			n += boolInt(p.DownloadRate >= 1)
		}
		return n
	},
	"percentComplete": func(v *view) any {
		size := v.totalSize()
		if size == 0 {
			return 0.0
		}
		return float64(v.haveValid()) / float64(size)
	},
	"percentDone": func(v *view) any {
		want := v.sizeWhenDone()
		if want == 0 {
			return float64(boolInt(v.s().NumPieces > 0))
		}
		return float64(want-v.left()) / float64(want)
	},
	"pieces": func(v *view) any {
		if !v.t.HasMetadata() {
			return ""
		}
		return base64.StdEncoding.EncodeToString(v.e.Have().Bytes())
	},
	"pieceCount":        func(v *view) any { return v.s().NumPieces },
	"pieceSize":         func(v *view) any { return v.t.PieceLength() },
	"primary-mime-type": func(v *view) any { return "application/octet-stream" },
	"priorities": func(v *view) any {
		out := make([]int, 0, len(v.fileList()))
		for _, f := range v.fileList() {
			out = append(out, f.Priority)
		}
		return out
	},
	"queuePosition":      func(v *view) any { return v.e.ID() },
	"rateDownload":       func(v *view) any { return int64(v.s().DownloadRate) },
	"rateUpload":         func(v *view) any { return int64(v.s().UploadRate) },
	"recheckProgress":    func(v *view) any { return 0.0 },
	"secondsDownloading": func(v *view) any { return v.in().SecondsDownloading },
	"secondsSeeding":     func(v *view) any { return v.in().SecondsSeeding },
	"seedIdleLimit": func(v *view) any {
		if v.in().SeedIdleMode == 1 {
			return v.in().SeedIdleLimit
		}
		return v.h.d.Settings().IdleSeedingLimit
	},
	"seedIdleMode": func(v *view) any { return v.in().SeedIdleMode },
	"seedRatioLimit": func(v *view) any {
		if v.in().SeedRatioMode == 1 {
			return v.in().SeedRatioLimit
		}
		return v.h.d.Settings().SeedRatioLimit
	},
	"seedRatioMode":      func(v *view) any { return v.in().SeedRatioMode },
	"sequentialDownload": func(v *view) any { return false },
	"sizeWhenDone":       func(v *view) any { return v.sizeWhenDone() },
	"startDate":          func(v *view) any { return unixOrZero(v.in().Started) },
	"status":             func(v *view) any { return v.status() },
	"torrentFile":        func(v *view) any { return path.Join(v.h.d.ConfigDir(), v.t.InfoHash().String()+".torrent") },
	"totalSize":          func(v *view) any { return v.s().Size },
	"trackers":           func(v *view) any { return trackersObj(v) },
	"trackerList":        func(v *view) any { return trackerListString(v) },
	"trackerStats":       func(v *view) any { return trackerStatsObj(v) },
	"uploadedEver":       func(v *view) any { return v.t.TotalUploaded() },
	"uploadLimit":        func(v *view) any { return kBps(v.in().UploadLimit) },
	"uploadLimited":      func(v *view) any { return v.in().UploadLimited },
	"uploadRatio":        func(v *view) any { return round2(v.ratio()) },
	"wanted": func(v *view) any {
		out := make([]int, 0, len(v.fileList()))
		for _, f := range v.fileList() {
			out = append(out, boolInt(f.Wanted))
		}
		return out
	},
	"webseeds": func(v *view) any {
		if v.t.HasMetadata() {
			return nonNil(v.t.Metadata().URLList)
		}
		return []string{}
	},
	"webseedsSendingToUs": func(v *view) any { return 0 },
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func peerLimit(v *view) int {
	if n := v.in().PeerLimit; n > 0 {
		return n
	}
	return v.h.d.Settings().PeerLimitPerTorrent
}

func metaString(v *view, pick func(comment, creator string) string) string {
	if !v.t.HasMetadata() {
		return ""
	}
	m := v.t.Metadata()
	return pick(m.Comment, m.CreatedBy)
}

func peerObj(p bt.PeerInfo) obj {
	f := p.Flags
	var flags strings.Builder
	if p.DownloadRate >= 1 {
		flags.WriteByte('D')
	} else if f.AmInterested && !f.PeerChoking {
		flags.WriteByte('d')
	}
	if p.UploadRate >= 1 {
		flags.WriteByte('U')
	} else if f.PeerInterested && !f.AmChoking {
		flags.WriteByte('u')
	}
	if !f.AmInterested && !f.PeerChoking {
		flags.WriteByte('K')
	}
	if f.PeerInterested && f.AmChoking {
		flags.WriteByte('?')
	}
	if f.Incoming {
		flags.WriteByte('I')
	}
	return obj{
		"address": p.Addr.Addr().Unmap().String(), "port": p.Addr.Port(), "clientName": p.Client,
		"clientIsChoked": f.AmChoking, "clientIsInterested": f.AmInterested,
		"peerIsChoked": f.PeerChoking, "peerIsInterested": f.PeerInterested,
		"isDownloadingFrom": p.DownloadRate >= 1, "isUploadingTo": p.UploadRate >= 1,
		"isEncrypted": false, "isIncoming": f.Incoming, "isUTP": false,
		"flagStr": flags.String(), "progress": p.Progress,
		"rateToClient": int64(p.DownloadRate), "rateToPeer": int64(p.UploadRate),
	}
}

func tiers(v *view) [][]string {
	if v.t.HasMetadata() {
		return v.t.Metadata().Trackers()
	}
	var out [][]string
	for _, tr := range v.trackerList() {
		out = append(out, tr.URLs)
	}
	return out
}

func trackersObj(v *view) []obj {
	out := []obj{}
	id := 0
	for tier, urls := range tiers(v) {
		for _, u := range urls {
			out = append(out, obj{"announce": u, "id": id, "scrape": "", "sitename": sitename(u), "tier": tier})
			id++
		}
	}
	return out
}

func trackerListString(v *view) string {
	var b strings.Builder
	for i, urls := range tiers(v) {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, u := range urls {
			b.WriteString(u + "\n")
		}
	}
	return b.String()
}

func sitename(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Hostname()
}

func trackerStatsObj(v *view) []obj {
	status := map[string]tracker.TierStatus{}
	for _, tr := range v.trackerList() {
		for _, u := range tr.URLs {
			status[u] = tr
		}
	}
	out := []obj{}
	id := 0
	for tier, urls := range tiers(v) {
		for _, u := range urls {
			st, ok := status[u]
			o := obj{"announce": u, "host": sitename(u), "sitename": sitename(u), "id": id, "tier": tier,
				"isBackup": false, "announceState": 0, "scrapeState": 0,
				"hasAnnounced": false, "hasScraped": false, "lastAnnounceSucceeded": false, "lastAnnounceTimedOut": false,
				"lastAnnounceResult": "", "lastAnnounceStartTime": 0, "lastAnnounceTime": 0, "lastAnnouncePeerCount": 0,
				"nextAnnounceTime": 0, "lastScrapeSucceeded": false, "lastScrapeTimedOut": false, "lastScrapeResult": "",
				"lastScrapeStartTime": 0, "lastScrapeTime": 0, "nextScrapeTime": 0, "scrape": "",
				"seederCount": -1, "leecherCount": -1, "downloadCount": -1}
			if ok {
				o["isBackup"] = len(st.URLs) > 0 && st.URLs[0] != u
				o["hasAnnounced"] = !st.LastAnnounce.IsZero()
				o["lastAnnounceTime"] = unixOrZero(st.LastAnnounce)
				o["lastAnnounceStartTime"] = unixOrZero(st.LastAnnounce)
				o["nextAnnounceTime"] = unixOrZero(st.NextAnnounce)
				o["lastAnnounceSucceeded"] = st.Failures == 0 && !st.LastAnnounce.IsZero()
				o["lastAnnouncePeerCount"] = len(st.Peers) + len(st.Peers6)
				o["seederCount"], o["leecherCount"] = st.Complete, st.Incomplete
				if st.LastError != nil {
					o["lastAnnounceResult"] = st.LastError.Error()
				} else if !st.LastAnnounce.IsZero() {
					o["lastAnnounceResult"] = "Success"
				}
				if !st.NextAnnounce.IsZero() {
					o["announceState"] = 1 // waiting
				}
			}
			out = append(out, o)
			id++
		}
	}
	return out
}

func (h *Handler) torrentGet(_ context.Context, a args) (any, error) {
	names, ok, err := a.strList("fields")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errMissingFields
	}
	format, _, err := a.str("format")
	if err != nil {
		return nil, err
	}
	if format != "" && format != "objects" && format != "table" {
		return nil, errBadFormat
	}
	// Unknown fields are left out, as Transmission does: remotes ask for
	// fields of newer versions and must still get the rest.
	known := names[:0:0]
	for _, n := range names {
		if fields[n] != nil && !slices.Contains(known, n) {
			known = append(known, n)
		}
	}
	list, err := h.selected(a)
	if err != nil {
		return nil, err
	}
	out := obj{}
	if format == "table" {
		rows := make([]any, 0, len(list)+1)
		rows = append(rows, known)
		for _, e := range list {
			v := &view{h: h, e: e, t: e.Engine()}
			row := make([]any, len(known))
			for i, n := range known {
				row[i] = fields[n](v)
			}
			rows = append(rows, row)
		}
		out["torrents"] = rows
	} else {
		torrents := make([]obj, 0, len(list))
		for _, e := range list {
			v := &view{h: h, e: e, t: e.Engine()}
			o := make(obj, len(known))
			for _, n := range known {
				o[n] = fields[n](v)
			}
			torrents = append(torrents, o)
		}
		out["torrents"] = torrents
	}
	if s, isStr := a["ids"].(string); isStr && s == "recently-active" {
		removed := h.d.RecentlyRemoved(recentWindow)
		if removed == nil {
			removed = []int{}
		}
		out["removed"] = removed
	}
	return out, nil
}
