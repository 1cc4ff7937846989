package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/bt-go/bt/bencode"

	"github.com/bt-go/bt/internal/compact"
)

// maxHTTPScrape bounds the info hashes of one HTTP scrape.
const maxHTTPScrape = 100

// ServeHTTP answers /announce and /scrape (a path ending in either, so
// /x/announce works too); anything else is 404. Tracker errors are 200
// replies with a "failure reason", as clients expect.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	src, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		http.Error(w, "bad remote address", http.StatusInternalServerError)
		return
	}
	announce := hasSuffix(r.URL.Path, "/announce")
	if !announce && !hasSuffix(r.URL.Path, "/scrape") {
		http.NotFound(w, r)
		return
	}
	ip, now := src.Addr().Unmap(), s.now()
	if !s.limit.allow(ip, now) {
		s.fail(w, errRateLimited)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, fmt.Errorf("malformed query: %w", err))
		return
	}
	if announce {
		s.httpAnnounce(w, q, ip, now)
	} else {
		s.httpScrape(w, q)
	}
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func (s *Server) httpAnnounce(w http.ResponseWriter, q url.Values, ip netip.Addr, now time.Time) {
	a, err := s.parseAnnounce(q, ip)
	if err != nil {
		s.fail(w, err)
		return
	}
	res := s.store.announce(a, now)
	s.log.Debug("announce", "proto", "http", "peer", a.addr, "info_hash", fmt.Sprintf("%x", a.infoHash),
		"event", a.event, "left", a.left, "returned", len(res.peers))
	reply := map[string]any{
		"interval":     int64(s.cfg.Interval.Seconds()),
		"min interval": int64(s.cfg.MinInterval.Seconds()),
		"complete":     res.complete,
		"incomplete":   res.incomplete,
	}
	if q.Get("compact") == "0" {
		list := make([]any, 0, len(res.peers))
		for _, p := range res.peers {
			list = append(list, map[string]any{"ip": p.Addr().String(), "port": int64(p.Port())})
		}
		reply["peers"] = list
	} else {
		var v4, v6 []byte
		for _, p := range res.peers {
			if p.Addr().Is4() {
				v4 = compact.Append(v4, p)
			} else {
				v6 = compact.Append(v6, p)
			}
		}
		reply["peers"] = v4
		if len(v6) > 0 {
			reply["peers6"] = v6
		}
	}
	s.write(w, reply)
}

// parseAnnounce checks an HTTP announce's parameters.
func (s *Server) parseAnnounce(q url.Values, ip netip.Addr) (announceArgs, error) {
	var a announceArgs
	ih, id := q.Get("info_hash"), q.Get("peer_id")
	if len(ih) != 20 {
		return a, errors.New("info_hash must be 20 bytes")
	}
	if len(id) != 20 {
		return a, errors.New("peer_id must be 20 bytes")
	}
	copy(a.infoHash[:], ih)
	copy(a.peerID[:], id)
	if s.cfg.Allow != nil && !s.cfg.Allow(a.infoHash) {
		return a, errNotAllowed
	}
	port, err := strconv.ParseUint(q.Get("port"), 10, 16)
	if err != nil || port == 0 {
		return a, errors.New("port must be 1 to 65535")
	}
	a.addr = netip.AddrPortFrom(ip, uint16(port))
	a.left, err = strconv.ParseInt(q.Get("left"), 10, 64)
	if err != nil || a.left < 0 {
		return a, errors.New("left must be a count of bytes")
	}
	switch ev := q.Get("event"); ev {
	case "", "started", "completed", "stopped", "paused":
		if ev != "paused" {
			a.event = ev
		}
	default:
		return a, fmt.Errorf("unknown event %.32q", ev)
	}
	a.numWant = s.numWant(q.Get("numwant"))
	return a, nil
}

func (s *Server) numWant(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return s.cfg.DefaultNumWant
	}
	return min(n, s.cfg.MaxNumWant)
}

func (s *Server) httpScrape(w http.ResponseWriter, q url.Values) {
	raw := q["info_hash"]
	if len(raw) == 0 {
		s.fail(w, errors.New("full scrape is not supported; give info_hash"))
		return
	}
	if len(raw) > maxHTTPScrape {
		s.fail(w, fmt.Errorf("at most %d info hashes per scrape", maxHTTPScrape))
		return
	}
	hashes := make([][20]byte, 0, len(raw))
	for _, h := range raw {
		if len(h) != 20 {
			s.fail(w, errors.New("info_hash must be 20 bytes"))
			return
		}
		hashes = append(hashes, [20]byte([]byte(h)))
	}
	counts := s.store.scrape(hashes)
	files := make(map[string]any, len(hashes))
	for i, h := range hashes {
		if s.cfg.Allow != nil && !s.cfg.Allow(h) {
			continue
		}
		c := counts[i]
		files[string(h[:])] = map[string]any{"complete": c.complete, "incomplete": c.incomplete, "downloaded": c.downloaded}
	}
	s.write(w, map[string]any{"files": files})
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	s.log.Debug("request refused", "proto", "http", "err", err)
	s.write(w, map[string]any{"failure reason": err.Error()})
}

func (s *Server) write(w http.ResponseWriter, v map[string]any) {
	body, err := bencode.Marshal(v)
	if err != nil {
		s.log.Error("tracker reply", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
