package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/bt-go/bt/bencode"

	"github.com/bt-go/bt/internal/compact"
)

// maxRawInterval bounds the intervals a reply may carry before they become
// time.Durations (a larger number would overflow); the Announcer clamps much
// tighter.
const maxRawInterval = 365 * 24 * time.Hour

// Errors of reply parsing, wrapped in a *ResponseError.
var (
	errNotBencode = errors.New("reply is not a bencoded dictionary")
	errLooksHTML  = errors.New("reply is HTML, not bencode")
)

// decodeDict decodes a reply body as a bencoded dictionary. Bytes after the
// dictionary are ignored (some trackers end their reply with a newline).
func decodeDict(body []byte) (map[string]any, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", errNotBencode)
	}
	if trimmed[0] == '<' {
		return nil, errLooksHTML
	}
	if trimmed[0] != 'd' {
		return nil, fmt.Errorf("%w: starts with %q", errNotBencode, trimmed[:min(len(trimmed), 16)])
	}
	var v any
	if _, err := bencode.UnmarshalPrefix(trimmed, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotBencode, err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, errNotBencode
	}
	return d, nil
}

// parseAnnounceResponse decodes an HTTP announce reply body: a failure
// reason becomes a *FailureError; peers may come compact (BEP 23), as a list
// of dictionaries (BEP 3) or as IPv6 peers6 (BEP 7).
func parseAnnounceResponse(body []byte) (*AnnounceResponse, error) {
	d, err := decodeDict(body)
	if err != nil {
		return nil, err
	}
	if reason, ok := d["failure reason"]; ok {
		s, _ := reason.(string)
		if s == "" {
			s = "(no reason given)"
		}
		return nil, &FailureError{Reason: truncate(s, 512)}
	}
	r := &AnnounceResponse{
		Interval:    seconds(d["interval"]),
		MinInterval: seconds(d["min interval"]),
		Complete:    count(d["complete"]),
		Incomplete:  count(d["incomplete"]),
	}
	r.Warning, _ = d["warning message"].(string)
	r.Warning = truncate(r.Warning, 512)
	r.TrackerID, _ = d["tracker id"].(string)
	r.TrackerID = truncate(r.TrackerID, 256)
	switch p := d["peers"].(type) {
	case nil:
	case string:
		peers, err := compact.ParseList([]byte(p), compact.IPv4Len)
		if err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		r.Peers = append(r.Peers, peers...)
	case []any:
		r.Peers = append(r.Peers, dictPeers(p)...)
	default:
		return nil, fmt.Errorf("peers: a %T, want a string or a list", p)
	}
	switch p := d["peers6"].(type) {
	case nil:
	case string:
		peers, err := compact.ParseList([]byte(p), compact.IPv6Len)
		if err != nil {
			return nil, fmt.Errorf("peers6: %w", err)
		}
		r.Peers = append(r.Peers, peers...)
	default:
		return nil, fmt.Errorf("peers6: a %T, want a string", p)
	}
	r.Peers = capPeers(r.Peers)
	return r, nil
}

// MaxReplyPeers caps the peers taken from one reply: a 1 MiB compact
// string holds 170 000 addresses, far more than any swarm needs from one
// announce, and a hostile tracker could use them to make us dial strangers.
const MaxReplyPeers = 2000

func capPeers(p []netip.AddrPort) []netip.AddrPort {
	if len(p) > MaxReplyPeers {
		return p[:MaxReplyPeers:MaxReplyPeers]
	}
	return p
}

// dictPeers reads the BEP 3 list of {ip, port} dictionaries. Entries whose
// "ip" is not a literal address (a host name would have us resolve names a
// tracker chose) or whose port is out of range are skipped.
func dictPeers(list []any) []netip.AddrPort {
	var peers []netip.AddrPort
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		ip, _ := m["ip"].(string)
		port, _ := m["port"].(int64)
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" || a.IsUnspecified() || port <= 0 || port > math.MaxUint16 {
			continue
		}
		peers = append(peers, netip.AddrPortFrom(a.Unmap(), uint16(port)))
	}
	return peers
}

// parseScrapeResponse decodes a BEP 48 scrape reply: a "files" dictionary
// keyed by the 20-byte info hashes.
func parseScrapeResponse(body []byte) (map[[20]byte]ScrapeResult, error) {
	d, err := decodeDict(body)
	if err != nil {
		return nil, err
	}
	if reason, ok := d["failure reason"]; ok {
		s, _ := reason.(string)
		return nil, &FailureError{Reason: truncate(s, 512)}
	}
	files, ok := d["files"].(map[string]any)
	if !ok {
		if _, present := d["files"]; present {
			return nil, errors.New(`scrape reply's "files" is not a dictionary`)
		}
		return map[[20]byte]ScrapeResult{}, nil
	}
	out := make(map[[20]byte]ScrapeResult, len(files))
	for k, v := range files {
		m, ok := v.(map[string]any)
		if len(k) != 20 || !ok {
			continue
		}
		name, _ := m["name"].(string)
		out[[20]byte([]byte(k))] = ScrapeResult{
			Complete:   max(count(m["complete"]), 0),
			Downloaded: max(count(m["downloaded"]), 0),
			Incomplete: max(count(m["incomplete"]), 0),
			Name:       truncate(name, 1024),
		}
	}
	return out, nil
}

// seconds turns a bencoded count of seconds into a Duration: 0 when absent,
// not an integer or negative, and at most maxRawInterval.
func seconds(v any) time.Duration {
	n, ok := v.(int64)
	if !ok || n <= 0 {
		return 0
	}
	return min(time.Duration(min(n, int64(maxRawInterval/time.Second)))*time.Second, maxRawInterval)
}

// count reads a peer count: -1 when absent or not an integer, clamped to
// [0, MaxInt32].
func count(v any) int {
	n, ok := v.(int64)
	if !ok {
		return -1
	}
	return int(min(max(n, 0), math.MaxInt32))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
