package metainfo

import (
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/internal/readlimit"
)

// MetaInfo is a parsed .torrent file (BEP 3).
type MetaInfo struct {
	// Info is the parsed, validated info dictionary.
	Info Info
	// InfoBytes holds the exact bytes of the info dictionary as they
	// appear in the file: what the info hash and ut_metadata are made of.
	InfoBytes bencode.RawMessage
	// InfoHash is the SHA-1 of InfoBytes: the v1 info hash.
	InfoHash Hash
	// Announce is the tracker URL of the announce key.
	Announce string
	// AnnounceList holds the BEP 12 tracker tiers, without empty tiers or
	// repeated URLs.
	AnnounceList [][]string
	// URLList holds the BEP 19 web seeds (url-list, a string or a list).
	URLList []string
	// CreationDate is the creation time in seconds since the Unix epoch,
	// 0 when absent.
	CreationDate int64
	// Comment, CreatedBy and Encoding are the optional free-text fields.
	Comment, CreatedBy, Encoding string
}

// ErrMalformed reports a field of the info dictionary of the wrong type.
var ErrMalformed = errors.New("metainfo: malformed info dictionary")

// Parse parses and validates a .torrent file. Bytes after the top-level
// dictionary are ignored. Optional fields of the wrong type (a numeric
// comment, a malformed announce-list...) are ignored as other clients do;
// problems in the info dictionary are errors (see the package
// documentation for the checks and limits).
func Parse(data []byte) (*MetaInfo, error) {
	var raw struct {
		Info         bencode.RawMessage `bencode:"info"`
		Announce     bencode.RawMessage `bencode:"announce"`
		AnnounceList bencode.RawMessage `bencode:"announce-list"`
		URLList      bencode.RawMessage `bencode:"url-list"`
		CreationDate bencode.RawMessage `bencode:"creation date"`
		Comment      bencode.RawMessage `bencode:"comment"`
		CommentUTF8  bencode.RawMessage `bencode:"comment.utf-8"`
		CreatedBy    bencode.RawMessage `bencode:"created by"`
		Encoding     bencode.RawMessage `bencode:"encoding"`
	}
	if len(data) == 0 || data[0] != 'd' {
		return nil, fmt.Errorf("%w: it does not start with a dictionary", ErrNotTorrent)
	}
	if _, err := bencode.UnmarshalPrefix(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotTorrent, err)
	}
	if len(raw.Info) == 0 || raw.Info[0] != 'd' {
		return nil, ErrNoInfo
	}
	info, err := ParseInfo(raw.Info)
	if err != nil {
		return nil, err
	}
	m := &MetaInfo{
		Info:      *info,
		InfoBytes: raw.Info,
		InfoHash:  info.hash,
	}
	m.Announce = strings.TrimSpace(lenientString(raw.Announce))
	m.AnnounceList = parseTiers(raw.AnnounceList)
	m.URLList = parseURLList(raw.URLList)
	_ = bencode.Unmarshal(raw.CreationDate, &m.CreationDate)
	m.Comment = lenientString(raw.CommentUTF8)
	if m.Comment == "" {
		m.Comment = lenientString(raw.Comment)
	}
	m.CreatedBy = lenientString(raw.CreatedBy)
	m.Encoding = lenientString(raw.Encoding)
	return m, nil
}

// LoadFile reads and parses a .torrent file of at most MaxTorrentSize bytes.
func LoadFile(path string) (*MetaInfo, error) {
	data, err := readlimit.File(path, MaxTorrentSize)
	if errors.Is(err, readlimit.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Trackers returns the tracker tiers to use: AnnounceList when it has any
// tracker, otherwise Announce as a single tier (BEP 12), otherwise nil.
func (m *MetaInfo) Trackers() [][]string {
	if len(m.AnnounceList) > 0 {
		return m.AnnounceList
	}
	if m.Announce != "" {
		return [][]string{{m.Announce}}
	}
	return nil
}

// Magnet returns a magnet link for the torrent: info hash (and for a
// hybrid torrent its v2 info hash, the SHA-256 of the info dictionary),
// name, trackers (every tier, in order) and web seeds.
func (m *MetaInfo) Magnet() *Magnet {
	mg := &Magnet{InfoHash: m.InfoHash, Name: m.Info.Name, WebSeeds: m.URLList}
	if m.Info.Hybrid && len(m.InfoBytes) > 0 {
		sum := sha256.Sum256(m.InfoBytes)
		mg.InfoHashV2 = sum[:]
	}
	for _, tier := range m.Trackers() {
		mg.Trackers = append(mg.Trackers, tier...)
	}
	return mg
}

// Marshal returns the torrent as .torrent bytes: the info dictionary
// exactly as InfoBytes holds it, and the other known fields in canonical
// form. Fields Parse does not know are not kept.
func (m *MetaInfo) Marshal() ([]byte, error) {
	if len(m.InfoBytes) == 0 {
		return nil, fmt.Errorf("metainfo: marshal: %w", ErrNoInfo)
	}
	t := struct {
		Announce     string             `bencode:"announce,omitempty"`
		AnnounceList [][]string         `bencode:"announce-list,omitempty"`
		Comment      string             `bencode:"comment,omitempty"`
		CreatedBy    string             `bencode:"created by,omitempty"`
		CreationDate int64              `bencode:"creation date,omitempty"`
		Encoding     string             `bencode:"encoding,omitempty"`
		Info         bencode.RawMessage `bencode:"info"`
		URLList      []string           `bencode:"url-list,omitempty"`
	}{m.Announce, m.AnnounceList, m.Comment, m.CreatedBy, m.CreationDate, m.Encoding, m.InfoBytes, m.URLList}
	return bencode.Marshal(&t)
}

// ParseInfo parses and validates an info dictionary, as fetched from peers
// with ut_metadata. The info hash is the SHA-1 of infoBytes.
func ParseInfo(infoBytes []byte) (*Info, error) {
	info, err := decodeInfo(infoBytes)
	if err != nil {
		return nil, err
	}
	info.hash = sha1.Sum(infoBytes)
	if _, err := info.validate(); err != nil {
		return nil, err
	}
	info.layout = newLayout(info, info.displayName(), windowsRules)
	return info, nil
}

// lenientString decodes an optional string field, "" when absent or of
// another type.
func lenientString(raw bencode.RawMessage) string {
	var s string
	if len(raw) > 0 && bencode.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// parseTiers reads announce-list, keeping only string URLs, trimming
// spaces, dropping empty tiers and URLs seen before.
func parseTiers(raw bencode.RawMessage) [][]string {
	var tiers []any
	if len(raw) == 0 || bencode.Unmarshal(raw, &tiers) != nil {
		return nil
	}
	seen := make(map[string]bool)
	var out [][]string
	for _, t := range tiers {
		list, ok := t.([]any)
		if !ok {
			continue
		}
		var tier []string
		for _, u := range list {
			s, ok := u.(string)
			if s = strings.TrimSpace(s); !ok || s == "" || seen[s] {
				continue
			}
			seen[s] = true
			tier = append(tier, s)
		}
		if len(tier) > 0 {
			out = append(out, tier)
		}
	}
	return out
}

// parseURLList reads url-list: a single string or a list of strings.
func parseURLList(raw bencode.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []any
	if raw[0] == 'l' {
		if bencode.Unmarshal(raw, &list) != nil {
			return nil
		}
	} else {
		list = []any{lenientString(raw)}
	}
	seen := make(map[string]bool)
	var out []string
	for _, u := range list {
		s, ok := u.(string)
		if s = strings.TrimSpace(s); !ok || s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
