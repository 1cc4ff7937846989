package pex

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bt-go/bt/bencode"

	"github.com/bt-go/bt/internal/compact"
)

// Flags describe a peer in an added list (BEP 11, one byte per peer in
// "added.f" and "added6.f").
type Flags uint8

// The flag bits defined by BEP 11. Other bits are reserved; they are kept as
// received.
const (
	FlagPrefersEncryption Flags = 0x01 // prefers encryption ("e" in its extended handshake)
	FlagSeed              Flags = 0x02 // seed or upload-only
	FlagUTP               Flags = 0x04 // supports uTP
	FlagHolepunch         Flags = 0x08 // announced ut_holepunch in its extended handshake
	FlagReachable         Flags = 0x10 // we connected to it: it accepts incoming connections
)

// String lists the set flags by name, for logs: "seed|utp", or "0" for none.
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	names := []struct {
		bit  Flags
		name string
	}{
		{FlagPrefersEncryption, "encryption"},
		{FlagSeed, "seed"},
		{FlagUTP, "utp"},
		{FlagHolepunch, "holepunch"},
		{FlagReachable, "reachable"},
	}
	var parts []string
	for _, n := range names {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", uint8(f)))
	}
	return strings.Join(parts, "|")
}

// Peer is one entry of an added list: an address and its flags.
type Peer struct {
	Addr  netip.AddrPort // the peer's listening address
	Flags Flags          // what the sender knows of it
}

// Message is the content of one ut_pex message. IPv4 and IPv6 peers share
// the lists; the encoding splits them into "added"/"added6" and
// "dropped"/"dropped6".
type Message struct {
	Added   []Peer           // peers the sender connected to since its last message
	Dropped []netip.AddrPort // peers it announced before and is no longer connected to
}

// Limits applied when parsing and building messages.
const (
	// MaxParsedEntries bounds how many added and how many dropped entries
	// ParseMessage returns from one message; the rest are ignored (libtorrent
	// sends at most 100 added entries in a message).
	MaxParsedEntries = 100
	// MaxPayload is the largest ut_pex payload accepted; a larger one is an
	// error (libtorrent disconnects above 500 KiB).
	MaxPayload = 500 << 10
	// MaxAdded and MaxDropped bound the entries of each message we send,
	// except the first one, which carries up to MaxFirstAdded peers.
	MaxAdded      = 50
	MaxDropped    = 50
	MaxFirstAdded = 100
)

// ErrInvalidMessage reports a ut_pex payload that is not a bencoded
// dictionary, or is larger than MaxPayload. The connection should be closed,
// as libtorrent does.
var ErrInvalidMessage = errors.New("pex: invalid message")

const ()

// ParseMessage decodes a ut_pex payload. Only a payload that is not a
// bencoded dictionary (or is larger than MaxPayload) is an error, wrapping
// ErrInvalidMessage. Everything else is read leniently, as libtorrent does:
// fields of the wrong type are ignored; a compact string whose length is not
// a multiple of the entry size has its trailing partial entry ignored;
// missing flag bytes (a flag string shorter than its list) read as 0; entries
// with port 0 or an address that cannot be a peer (unspecified, multicast,
// broadcast) are skipped; IPv4-mapped IPv6 addresses are unmapped; at most
// MaxParsedEntries added and MaxParsedEntries dropped entries are returned.
// Duplicates are not removed.
func ParseMessage(payload []byte) (*Message, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidMessage, len(payload), MaxPayload)
	}
	if len(payload) == 0 || payload[0] != 'd' {
		return nil, fmt.Errorf("%w: not a dictionary", ErrInvalidMessage)
	}
	var dict map[string]bencode.RawMessage
	if err := bencode.Unmarshal(payload, &dict); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	str := func(key string) []byte {
		raw, ok := dict[key]
		if !ok || len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
			return nil
		}
		var b []byte
		if bencode.Unmarshal(raw, &b) != nil {
			return nil
		}
		return b
	}
	m := new(Message)
	m.Added = appendAdded(m.Added, str("added"), str("added.f"), compact.IPv4Len)
	m.Added = appendAdded(m.Added, str("added6"), str("added6.f"), compact.IPv6Len)
	m.Dropped = appendDropped(m.Dropped, str("dropped"), compact.IPv4Len)
	m.Dropped = appendDropped(m.Dropped, str("dropped6"), compact.IPv6Len)
	return m, nil
}

func appendAdded(dst []Peer, list, flags []byte, size int) []Peer {
	for i := 0; (i+1)*size <= len(list) && len(dst) < MaxParsedEntries; i++ {
		addr, ok := decodeAddr(list[i*size : (i+1)*size])
		if !ok {
			continue
		}
		var f Flags
		if i < len(flags) {
			f = Flags(flags[i])
		}
		dst = append(dst, Peer{Addr: addr, Flags: f})
	}
	return dst
}

func appendDropped(dst []netip.AddrPort, list []byte, size int) []netip.AddrPort {
	for i := 0; (i+1)*size <= len(list) && len(dst) < MaxParsedEntries; i++ {
		if addr, ok := decodeAddr(list[i*size : (i+1)*size]); ok {
			dst = append(dst, addr)
		}
	}
	return dst
}

// decodeAddr reads one compact entry (6 or 18 bytes) and says whether it is a
// usable peer address.
func decodeAddr(b []byte) (netip.AddrPort, bool) {
	ap, ok := compact.Parse(b)
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return ap, ok && compact.Dialable(ap)
}

// wireMessage is the bencoded form. Keys are written in sorted order by the
// encoder; empty fields are left out.
type wireMessage struct {
	Added    []byte `bencode:"added,omitempty"`
	AddedF   []byte `bencode:"added.f,omitempty"`
	Added6   []byte `bencode:"added6,omitempty"`
	Added6F  []byte `bencode:"added6.f,omitempty"`
	Dropped  []byte `bencode:"dropped,omitempty"`
	Dropped6 []byte `bencode:"dropped6,omitempty"`
}

// Marshal encodes m as a ut_pex payload. Every added list is written with its
// flag string (libtorrent ignores an added list without one). Addresses that
// cannot be peers (see ParseMessage) are left out. Marshal does not limit the
// number of entries: Extension keeps its messages within MaxAdded and
// MaxDropped.
func (m *Message) Marshal() ([]byte, error) {
	var w wireMessage
	for _, p := range m.Added {
		if !compact.Dialable(p.Addr) {
			continue
		}
		if ip := p.Addr.Addr().Unmap(); ip.Is4() {
			w.Added = compact.Append(w.Added, netip.AddrPortFrom(ip, p.Addr.Port()))
			w.AddedF = append(w.AddedF, byte(p.Flags))
		} else {
			w.Added6 = compact.Append(w.Added6, p.Addr)
			w.Added6F = append(w.Added6F, byte(p.Flags))
		}
	}
	for _, a := range m.Dropped {
		if !compact.Dialable(a) {
			continue
		}
		if ip := a.Addr().Unmap(); ip.Is4() {
			w.Dropped = compact.Append(w.Dropped, netip.AddrPortFrom(ip, a.Port()))
		} else {
			w.Dropped6 = compact.Append(w.Dropped6, a)
		}
	}
	b, err := bencode.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("pex: encoding message: %w", err)
	}
	return b, nil
}

// sortAddrs orders addresses for deterministic messages.
func sortAddrs(s []netip.AddrPort) {
	slices.SortFunc(s, func(a, b netip.AddrPort) int { return a.Compare(b) })
}
