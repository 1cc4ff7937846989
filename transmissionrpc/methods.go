package transmissionrpc

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/daemon"
	"github.com/bt-go/bt/metainfo"
)

// RPCVersion is the rpc-version this package speaks (Transmission 4.0's).
const (
	RPCVersion        = 17
	RPCVersionMinimum = 14
	// Version is what session-get reports as the daemon's version.
	Version = "4.0.0 (bt)"
)

var methods map[string]method

func init() {
	methods = map[string]method{
		"torrent-add":          {(*Handler).torrentAdd, addKeys},
		"torrent-get":          {(*Handler).torrentGet, []string{"ids", "fields", "format"}},
		"torrent-set":          {(*Handler).torrentSet, setKeys},
		"torrent-start":        {action(func(e *daemon.Torrent) error { return e.Start() }), idsKey},
		"torrent-start-now":    {action(func(e *daemon.Torrent) error { return e.Start() }), idsKey},
		"torrent-stop":         {action(func(e *daemon.Torrent) error { return e.Stop() }), idsKey},
		"torrent-verify":       {action(func(e *daemon.Torrent) error { return e.Verify() }), idsKey},
		"torrent-reannounce":   {action(reannounce), idsKey},
		"torrent-remove":       {(*Handler).torrentRemove, []string{"ids", "delete-local-data"}},
		"torrent-set-location": {(*Handler).torrentSetLocation, []string{"ids", "location", "move"}},
		"torrent-rename-path":  {(*Handler).torrentRenamePath, []string{"ids", "path", "name"}},
		"session-get":          {(*Handler).sessionGet, []string{"fields"}},
		"session-set":          {(*Handler).sessionSet, nil}, // checked against sessionKeys inside
		"session-stats":        {(*Handler).sessionStats, []string{}},
		"session-close":        {(*Handler).sessionClose, []string{}},
		"free-space":           {(*Handler).freeSpace, []string{"path"}},
		"port-test":            {(*Handler).portTest, []string{"ipProtocol", "ip_protocol"}},
		"blocklist-update": {func(*Handler, context.Context, args) (any, error) {
			return nil, errors.New("no blocklist is configured")
		}, []string{}},
		"queue-move-top":    {queueMove, idsKey},
		"queue-move-up":     {queueMove, idsKey},
		"queue-move-down":   {queueMove, idsKey},
		"queue-move-bottom": {queueMove, idsKey},
		"group-get":         {func(*Handler, context.Context, args) (any, error) { return obj{"group": []any{}}, nil }, []string{"group"}},
	}
}

var idsKey = []string{"ids"}

// selected resolves the ids argument: absent means every torrent.
func (h *Handler) selected(a args) ([]*daemon.Torrent, error) {
	v, ok := a["ids"]
	if !ok {
		return h.d.Torrents(), nil
	}
	if s, isStr := v.(string); isStr && s == "recently-active" {
		var out []*daemon.Torrent
		for _, e := range h.d.Torrents() {
			if recentlyActive(e) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	var out []*daemon.Torrent
	seen := map[*daemon.Torrent]bool{}
	for _, x := range list {
		var e *daemon.Torrent
		switch x := x.(type) {
		case json.Number:
			id, err := integer(x)
			if err != nil {
				return nil, fmt.Errorf("torrent id %s is not an integer", x)
			}
			e = h.d.ByID(int(id))
		case string:
			ih, err := parseHash(x)
			if err != nil {
				return nil, err
			}
			e = h.d.ByHash(ih)
		default:
			return nil, errors.New("ids must be integers or hash strings")
		}
		if e != nil && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

func parseHash(s string) (metainfo.Hash, error) {
	var ih metainfo.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(ih) {
		return ih, fmt.Errorf("%q is neither a torrent id nor an info hash", s)
	}
	copy(ih[:], b)
	return ih, nil
}

const recentWindow = 60 * time.Second

func recentlyActive(e *daemon.Torrent) bool {
	in := e.Info()
	now := time.Now()
	for _, t := range []time.Time{in.Activity, in.Added, in.Done, in.Started} {
		if !t.IsZero() && now.Sub(t) < recentWindow {
			return true
		}
	}
	s := e.Engine().Stats()
	return s.DownloadRate >= 1 || s.UploadRate >= 1 || s.Checking
}

func action(f func(*daemon.Torrent) error) func(*Handler, context.Context, args) (any, error) {
	return func(h *Handler, _ context.Context, a args) (any, error) {
		list, err := h.selected(a)
		if err != nil {
			return nil, err
		}
		for _, e := range list {
			if err := f(e); err != nil && !errors.Is(err, bt.ErrClosed) {
				return nil, fmt.Errorf("torrent %d: %w", e.ID(), err)
			}
		}
		return nil, nil
	}
}

// reannounce asks the trackers for peers again by stopping and starting
// discovery: the engine has no finer call, and a started torrent restarts
// its announces from "started".
func reannounce(e *daemon.Torrent) error {
	return e.Reannounce()
}

func queueMove(h *Handler, _ context.Context, a args) (any, error) {
	_, err := h.selected(a)
	return nil, err // there is no queue order beyond the ids yet
}

var addKeys = []string{"cookies", "download-dir", "filename", "metainfo", "paused", "peer-limit",
	"bandwidthPriority", "files-wanted", "files-unwanted", "priority-high", "priority-low", "priority-normal", "labels"}

func (h *Handler) torrentAdd(ctx context.Context, a args) (any, error) {
	filename, hasFile, err1 := a.str("filename")
	meta, hasMeta, err2 := a.str("metainfo")
	dir, hasDir, err3 := a.str("download-dir")
	paused, hasPaused, err4 := a.bool("paused")
	peerLimit, _, err5 := a.int("peer-limit")
	wanted, _, err6 := a.intList("files-wanted")
	unwanted, _, err7 := a.intList("files-unwanted")
	high, _, err8 := a.intList("priority-high")
	low, _, err9 := a.intList("priority-low")
	normal, _, err10 := a.intList("priority-normal")
	if err := firstErr(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10); err != nil {
		return nil, err
	}
	if hasDir && !filepath.IsAbs(dir) {
		return nil, errors.New("download directory path is not absolute")
	}
	if !hasPaused {
		paused = !h.d.Settings().StartAddedTorrents
	}
	o := daemon.AddOptions{Dir: dir, Paused: paused}
	var e *daemon.Torrent
	var err error
	switch {
	case hasMeta:
		b, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(meta))
		if derr != nil {
			return nil, errors.New("invalid or corrupt torrent file: metainfo is not base64")
		}
		o.FilePriorities, err = addPriorities(b, wanted, unwanted, high, low, normal)
		if err != nil {
			return nil, err
		}
		e, err = h.d.AddMetainfo(b, o)
	case hasFile && filename != "":
		if !strings.HasPrefix(strings.ToLower(filename), "magnet:") && !strings.Contains(filename, "://") {
			if b, rerr := os.ReadFile(filename); rerr == nil {
				o.FilePriorities, err = addPriorities(b, wanted, unwanted, high, low, normal)
				if err != nil {
					return nil, err
				}
			}
		}
		e, err = h.d.AddSource(ctx, filename, o)
	default:
		return nil, errors.New("no filename or metainfo specified")
	}
	if errors.Is(err, daemon.ErrDuplicate) {
		return obj{"torrent-duplicate": addedObj(e)}, nil
	}
	if err != nil {
		var me interface{ Unwrap() error }
		_ = me
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("torrent file not found: %s", filename)
		}
		return nil, fmt.Errorf("invalid or corrupt torrent file: %v", err)
	}
	if peerLimit > 0 {
		e.Update(func(in *daemon.Info) error { in.PeerLimit = int(peerLimit); return nil })
	}
	return obj{"torrent-added": addedObj(e)}, nil
}

func addedObj(e *daemon.Torrent) obj {
	return obj{"id": e.ID(), "name": e.Engine().Name(), "hashString": e.Engine().InfoHash().String()}
}

// addPriorities turns torrent-add's file lists into priorities indexed
// like daemon.Torrent.Files (nil when none is given).
func addPriorities(torrent []byte, wanted, unwanted, high, low, normal []int) ([]int, error) {
	if wanted == nil && unwanted == nil && high == nil && low == nil && normal == nil {
		return nil, nil
	}
	mi, err := metainfo.Parse(torrent)
	if err != nil {
		return nil, nil // the add reports it
	}
	n := 0
	for _, f := range mi.Info.Layout().Files {
		if !f.Pad {
			n++
		}
	}
	prio := make([]int, n)
	skip := make([]bool, n)
	if len(wanted) > 0 {
		for i := range skip {
			skip[i] = true
		}
	}
	set := func(list []int, f func(i int)) error {
		for _, i := range list {
			if i >= n {
				return fmt.Errorf("file index %d out of range (%d files)", i, n)
			}
			f(i)
		}
		return nil
	}
	if err := firstErr(
		set(wanted, func(i int) { skip[i] = false }),
		set(unwanted, func(i int) { skip[i] = true }),
		set(low, func(i int) { prio[i] = bt.PriorityLow }),
		set(normal, func(i int) { prio[i] = bt.PriorityNormal }),
		set(high, func(i int) { prio[i] = bt.PriorityHigh }),
	); err != nil {
		return nil, err
	}
	for i := range prio {
		if prio[i] == 0 {
			prio[i] = bt.PriorityNormal
		}
		if skip[i] {
			prio[i] = bt.PrioritySkip
		}
	}
	return prio, nil
}

func (h *Handler) torrentRemove(_ context.Context, a args) (any, error) {
	del, _, err := a.bool("delete-local-data")
	if err != nil {
		return nil, err
	}
	list, err := h.selected(a)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if err := h.d.Remove(e, del); err != nil && !errors.Is(err, daemon.ErrNoTorrent) && !errors.Is(err, bt.ErrClosed) {
			return nil, fmt.Errorf("torrent %d: %w", e.ID(), err)
		}
	}
	return nil, nil
}

func (h *Handler) torrentSetLocation(context.Context, args) (any, error) {
	return nil, errors.New("torrent-set-location is not supported by bt daemon yet")
}

func (h *Handler) torrentRenamePath(context.Context, args) (any, error) {
	return nil, errors.New("torrent-rename-path is not supported by bt daemon yet")
}

func (h *Handler) sessionStats(context.Context, args) (any, error) {
	cur, cum := h.d.SessionStats()
	list := h.d.Torrents()
	active, paused := 0, 0
	var down, up float64
	for _, e := range list {
		s := e.Engine().Stats()
		if s.State == bt.Started {
			active++
		} else {
			paused++
		}
		down += s.DownloadRate
		up += s.UploadRate
	}
	st := func(s daemon.Stats) obj {
		return obj{"uploadedBytes": s.UploadedBytes, "downloadedBytes": s.DownloadedBytes,
			"filesAdded": s.FilesAdded, "sessionCount": s.SessionCount, "secondsActive": s.SecondsActive}
	}
	return obj{
		"activeTorrentCount": active, "pausedTorrentCount": paused, "torrentCount": len(list),
		"downloadSpeed": int64(down), "uploadSpeed": int64(up),
		"current-stats": st(cur), "cumulative-stats": st(cum),
	}, nil
}

func (h *Handler) sessionClose(context.Context, args) (any, error) {
	if h.o.OnClose != nil {
		go h.o.OnClose()
	}
	return nil, nil
}

func (h *Handler) freeSpace(_ context.Context, a args) (any, error) {
	p, ok, err := a.str("path")
	if err != nil {
		return nil, err
	}
	if !ok || !filepath.IsAbs(p) {
		return nil, errors.New("directory path is not absolute")
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return nil, fmt.Errorf("free-space: %w", err)
	}
	return obj{"path": p, "size-bytes": int64(st.Bavail) * int64(st.Bsize), "total_size": int64(st.Blocks) * int64(st.Bsize)}, nil
}

// portTest answers from what the daemon knows: whether it listens. It
// makes no call to any outside service, so it cannot tell whether the
// port is reachable from the Internet; it says false rather than guess
// when it does not listen.
func (h *Handler) portTest(context.Context, args) (any, error) {
	return obj{"port-is-open": h.d.Port() > 0}, nil
}
