package metainfo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits on magnet links: a link with a thousand trackers fits.
const (
	// MaxMagnetLength is the longest magnet link accepted, in bytes.
	MaxMagnetLength = 256 << 10
	// MaxMagnetParams is the largest number of parameters accepted.
	MaxMagnetParams = 4096
	// maxSelectIndex bounds the file indices of a so= parameter.
	maxSelectIndex = MaxFiles
)

// ErrMagnet reports a malformed magnet link; the wrapped message says why.
var ErrMagnet = errors.New("metainfo: invalid magnet link")

// Magnet is a magnet link (BEP 9): how to find a torrent's metadata from
// its info hash.
type Magnet struct {
	// InfoHash is the v1 info hash (xt=urn:btih:).
	InfoHash Hash
	// InfoHashV2 is the SHA-256 v2 info hash of a hybrid torrent
	// (xt=urn:btmh:1220...), kept so the link can be written back; nil
	// when absent.
	InfoHashV2 []byte
	// Name is the display name (dn), a hint only.
	Name string
	// Length is the exact length (xl) in bytes, 0 when absent.
	Length int64
	// Trackers are the tracker URLs (tr), in order, without duplicates.
	Trackers []string
	// Peers are peer addresses "host:port" (x.pe, BEP 9).
	Peers []string
	// WebSeeds are web seed URLs (ws, BEP 19).
	WebSeeds []string
	// SelectOnly lists the file indices to download (so, BEP 53), as
	// inclusive ranges; nil means all files.
	SelectOnly []IndexRange
	// Params keeps other parameters (kt, xs, as, x.* ...) so String can
	// write them back.
	Params url.Values
}

// IndexRange is an inclusive range of file indices.
type IndexRange struct {
	First, Last int // the first and last index, both included
}

// ParseMagnet parses a magnet link. It needs an xt=urn:btih: parameter with
// a 40-digit hex or 32-character base32 hash; a link carrying only a v2
// hash (urn:btmh:) is refused with ErrV2Only. Peers that are not
// "host:port" are dropped; other unknown parameters are kept in Params.
func ParseMagnet(uri string) (*Magnet, error) {
	if len(uri) > MaxMagnetLength {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMagnet, len(uri), MaxMagnetLength)
	}
	rest, ok := cutPrefixFold(uri, "magnet:?")
	if !ok {
		return nil, fmt.Errorf("%w: %q does not start with magnet:?", ErrMagnet, truncate(uri, 40))
	}
	if n := strings.Count(rest, "&") + 1; n > MaxMagnetParams {
		return nil, fmt.Errorf("%w: %d parameters, more than %d", ErrMagnet, n, MaxMagnetParams)
	}
	m := &Magnet{}
	var haveV1 bool
	seen := map[string]map[string]bool{}
	addOnce := func(list *[]string, key, v string) {
		if seen[key] == nil {
			seen[key] = map[string]bool{}
		}
		if v != "" && !seen[key][v] {
			seen[key][v] = true
			*list = append(*list, v)
		}
	}
	for part := range strings.SplitSeq(rest, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("%w: bad escape in parameter name %q", ErrMagnet, truncate(k, 40))
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: bad escape in %s=%q", ErrMagnet, key, truncate(v, 40))
		}
		switch base := strings.ToLower(key); {
		case base == "xt" || strings.HasPrefix(base, "xt."):
			switch {
			case hasPrefixFold(val, "urn:btih:"):
				h, err := ParseHash(val[len("urn:btih:"):])
				if err != nil {
					return nil, fmt.Errorf("%w: xt: %w", ErrMagnet, err)
				}
				if haveV1 && h != m.InfoHash {
					return nil, fmt.Errorf("%w: two different btih info hashes", ErrMagnet)
				}
				m.InfoHash, haveV1 = h, true
			case hasPrefixFold(val, "urn:btmh:"):
				mh, err := hex.DecodeString(val[len("urn:btmh:"):])
				if err != nil || len(mh) != 34 || mh[0] != 0x12 || mh[1] != 0x20 {
					return nil, fmt.Errorf("%w: xt: %q is not a SHA-256 multihash", ErrMagnet, truncate(val, 80))
				}
				m.InfoHashV2 = mh[2:]
			default:
				m.addParam(key, val) // another kind of URN: not ours, kept
			}
		case base == "dn":
			m.Name = val
		case base == "xl":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: xl=%q is not a length", ErrMagnet, truncate(val, 40))
			}
			m.Length = n
		case base == "tr" || strings.HasPrefix(base, "tr."):
			addOnce(&m.Trackers, "tr", val)
		case base == "ws":
			addOnce(&m.WebSeeds, "ws", val)
		case base == "x.pe":
			if _, port, err := net.SplitHostPort(val); err == nil && port != "" {
				addOnce(&m.Peers, "x.pe", val)
			}
		case base == "so":
			r, err := parseSelectOnly(val)
			if err != nil {
				return nil, err
			}
			m.SelectOnly = append(m.SelectOnly, r...)
		default:
			m.addParam(key, val)
		}
	}
	if !haveV1 {
		if m.InfoHashV2 != nil {
			return nil, fmt.Errorf("%w (the magnet link has only a urn:btmh: hash)", ErrV2Only)
		}
		return nil, fmt.Errorf("%w: no xt=urn:btih: info hash", ErrMagnet)
	}
	return m, nil
}

func (m *Magnet) addParam(k, v string) {
	if m.Params == nil {
		m.Params = url.Values{}
	}
	m.Params.Add(k, v)
}

// parseSelectOnly parses "0,2,4,6-8".
func parseSelectOnly(s string) ([]IndexRange, error) {
	var out []IndexRange
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		a, b, isRange := strings.Cut(item, "-")
		first, err1 := strconv.Atoi(a)
		last := first
		var err2 error
		if isRange {
			last, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || first < 0 || last < first || last > maxSelectIndex {
			return nil, fmt.Errorf("%w: so=%q: %q is not a file index or range", ErrMagnet, truncate(s, 40), truncate(item, 20))
		}
		out = append(out, IndexRange{first, last})
	}
	return out, nil
}

// String formats the magnet link: xt (btih in hex, then btmh), dn, xl, tr,
// ws, x.pe, so, then the kept parameters. Values are percent-encoded.
func (m *Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(m.InfoHash.String())
	if len(m.InfoHashV2) == 32 {
		b.WriteString("&xt=urn:btmh:1220")
		b.WriteString(hex.EncodeToString(m.InfoHashV2))
	}
	param := func(k, v string) {
		b.WriteByte('&')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(escape(v))
	}
	if m.Name != "" {
		param("dn", m.Name)
	}
	if m.Length > 0 {
		param("xl", strconv.FormatInt(m.Length, 10))
	}
	for _, v := range m.Trackers {
		param("tr", v)
	}
	for _, v := range m.WebSeeds {
		param("ws", v)
	}
	for _, v := range m.Peers {
		param("x.pe", v)
	}
	if len(m.SelectOnly) > 0 {
		parts := make([]string, len(m.SelectOnly))
		for i, r := range m.SelectOnly {
			parts[i] = strconv.Itoa(r.First)
			if r.Last != r.First {
				parts[i] += "-" + strconv.Itoa(r.Last)
			}
		}
		b.WriteString("&so=" + strings.Join(parts, ","))
	}
	for _, k := range sortedKeys(m.Params) {
		for _, v := range m.Params[k] {
			param(escape(k), v)
		}
	}
	return b.String()
}

// Selected reports whether file index i is selected by SelectOnly (every
// file is when SelectOnly is empty).
func (m *Magnet) Selected(i int) bool {
	if len(m.SelectOnly) == 0 {
		return true
	}
	for _, r := range m.SelectOnly {
		if i >= r.First && i <= r.Last {
			return true
		}
	}
	return false
}

// escape percent-encodes a parameter value (a space becomes %20, which
// every client reads, rather than +).
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if hasPrefixFold(s, prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
