package trackerwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/bt-go/bt/internal/compact"
)

// ProtocolID is the magic constant that opens a BEP 15 connect request.
const ProtocolID uint64 = 0x41727101980

// Action is the second field of every BEP 15 packet.
type Action uint32

// The BEP 15 actions.
const (
	ActionConnect  Action = 0
	ActionAnnounce Action = 1
	ActionScrape   Action = 2
	ActionError    Action = 3
)

// Event numbers as the UDP protocol carries them (they differ from nothing
// else: the HTTP protocol names events by string).
const (
	EventNone      uint32 = 0
	EventCompleted uint32 = 1
	EventStarted   uint32 = 2
	EventStopped   uint32 = 3
)

// Packet sizes fixed by BEP 15.
const (
	ConnectRequestLen   = 16
	ConnectResponseLen  = 16
	AnnounceRequestLen  = 98
	AnnounceResponseMin = 20
	ScrapeRequestMin    = 16
	ScrapeEntryLen      = 12
	ResponseHeaderLen   = 8
	// MaxScrapeHashes is how many info hashes fit in one scrape request
	// ("up to about 74" in BEP 15).
	MaxScrapeHashes = 74
)

// BEP 41 option types that may follow the 98 bytes of an announce request.
const (
	optionEndOfOptions = 0
	optionNOP          = 1
	optionURLData      = 2
)

// maxURLData bounds the BEP 41 URL data a request may carry.
const maxURLData = 1024

// Errors returned by the parsers. They are wrapped with detail.
var (
	ErrShortPacket = errors.New("udp tracker packet too short")
	ErrBadProtocol = errors.New("udp connect request without the protocol magic")
	ErrBadAction   = errors.New("udp tracker packet with an unknown action")
)

// ConnectRequest opens a BEP 15 exchange.
type ConnectRequest struct {
	TransactionID uint32
}

// AnnounceRequest is a BEP 15 announce.
type AnnounceRequest struct {
	ConnectionID  uint64
	TransactionID uint32
	InfoHash      [20]byte
	PeerID        [20]byte
	Downloaded    int64
	Left          int64
	Uploaded      int64
	Event         uint32
	IP            uint32 // 0: the packet's source address
	Key           uint32
	NumWant       int32 // -1: the tracker's default
	Port          uint16
	URLData       string // BEP 41: path and query of the announce URL
}

// ScrapeRequest asks for the counts of up to MaxScrapeHashes torrents.
type ScrapeRequest struct {
	ConnectionID  uint64
	TransactionID uint32
	InfoHashes    [][20]byte
}

// ConnectResponse carries the connection id the client uses for a minute.
type ConnectResponse struct {
	TransactionID uint32
	ConnectionID  uint64
}

// AnnounceResponse is the tracker's answer to an announce.
type AnnounceResponse struct {
	TransactionID uint32
	Interval      uint32
	Leechers      uint32
	Seeders       uint32
	Peers         []netip.AddrPort
}

// ScrapeEntry holds one torrent's counts in a scrape response.
type ScrapeEntry struct {
	Seeders, Completed, Leechers uint32
}

// ScrapeResponse answers a scrape, one entry per requested hash in order.
type ScrapeResponse struct {
	TransactionID uint32
	Entries       []ScrapeEntry
}

// ErrorResponse is the tracker's error packet.
type ErrorResponse struct {
	TransactionID uint32
	Message       string
}

// AppendBinary appends the wire form of r to b.
func (r *ConnectRequest) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, ProtocolID)
	b = binary.BigEndian.AppendUint32(b, uint32(ActionConnect))
	return binary.BigEndian.AppendUint32(b, r.TransactionID)
}

// AppendBinary appends the wire form of r to b, with r.URLData as BEP 41
// options when it is not empty.
func (r *AnnounceRequest) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, r.ConnectionID)
	b = binary.BigEndian.AppendUint32(b, uint32(ActionAnnounce))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	b = append(b, r.InfoHash[:]...)
	b = append(b, r.PeerID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Downloaded))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Left))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Uploaded))
	b = binary.BigEndian.AppendUint32(b, r.Event)
	b = binary.BigEndian.AppendUint32(b, r.IP)
	b = binary.BigEndian.AppendUint32(b, r.Key)
	b = binary.BigEndian.AppendUint32(b, uint32(r.NumWant))
	b = binary.BigEndian.AppendUint16(b, r.Port)
	data := r.URLData
	if len(data) > maxURLData {
		data = data[:maxURLData]
	}
	for len(data) > 0 {
		n := min(len(data), 255)
		b = append(b, optionURLData, byte(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return b
}

// AppendBinary appends the wire form of r to b.
func (r *ScrapeRequest) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, r.ConnectionID)
	b = binary.BigEndian.AppendUint32(b, uint32(ActionScrape))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	for _, h := range r.InfoHashes {
		b = append(b, h[:]...)
	}
	return b
}

// AppendBinary appends the wire form of r to b.
func (r *ConnectResponse) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(ActionConnect))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	return binary.BigEndian.AppendUint64(b, r.ConnectionID)
}

// AppendBinary appends the wire form of r to b. Each peer is written in the
// compact form of its own family; a tracker sends one family per reply.
func (r *AnnounceResponse) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(ActionAnnounce))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	b = binary.BigEndian.AppendUint32(b, r.Interval)
	b = binary.BigEndian.AppendUint32(b, r.Leechers)
	b = binary.BigEndian.AppendUint32(b, r.Seeders)
	for _, p := range r.Peers {
		b = compact.Append(b, p)
	}
	return b
}

// AppendBinary appends the wire form of r to b.
func (r *ScrapeResponse) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(ActionScrape))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	for _, e := range r.Entries {
		b = binary.BigEndian.AppendUint32(b, e.Seeders)
		b = binary.BigEndian.AppendUint32(b, e.Completed)
		b = binary.BigEndian.AppendUint32(b, e.Leechers)
	}
	return b
}

// AppendBinary appends the wire form of r to b.
func (r *ErrorResponse) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(ActionError))
	b = binary.BigEndian.AppendUint32(b, r.TransactionID)
	return append(b, r.Message...)
}

// ParseRequest decodes a packet a tracker received: it returns a
// *ConnectRequest, *AnnounceRequest or *ScrapeRequest. Scrape requests with
// more than MaxScrapeHashes hashes and trailing bytes that are not a whole
// hash are errors; unknown BEP 41 options end option parsing.
func ParseRequest(b []byte) (any, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: request of %d bytes", ErrShortPacket, len(b))
	}
	connID := binary.BigEndian.Uint64(b)
	action := Action(binary.BigEndian.Uint32(b[8:]))
	tid := binary.BigEndian.Uint32(b[12:])
	switch action {
	case ActionConnect:
		if connID != ProtocolID {
			return nil, ErrBadProtocol
		}
		return &ConnectRequest{TransactionID: tid}, nil
	case ActionAnnounce:
		if len(b) < AnnounceRequestLen {
			return nil, fmt.Errorf("%w: announce of %d bytes", ErrShortPacket, len(b))
		}
		r := &AnnounceRequest{ConnectionID: connID, TransactionID: tid}
		copy(r.InfoHash[:], b[16:36])
		copy(r.PeerID[:], b[36:56])
		r.Downloaded = int64(binary.BigEndian.Uint64(b[56:]))
		r.Left = int64(binary.BigEndian.Uint64(b[64:]))
		r.Uploaded = int64(binary.BigEndian.Uint64(b[72:]))
		r.Event = binary.BigEndian.Uint32(b[80:])
		r.IP = binary.BigEndian.Uint32(b[84:])
		r.Key = binary.BigEndian.Uint32(b[88:])
		r.NumWant = int32(binary.BigEndian.Uint32(b[92:]))
		r.Port = binary.BigEndian.Uint16(b[96:])
		r.URLData = parseOptions(b[AnnounceRequestLen:])
		return r, nil
	case ActionScrape:
		rest := b[16:]
		if len(rest)%20 != 0 {
			return nil, fmt.Errorf("trackerwire: scrape request with %d bytes of hashes", len(rest))
		}
		n := len(rest) / 20
		if n == 0 || n > MaxScrapeHashes {
			return nil, fmt.Errorf("trackerwire: scrape request for %d torrents (1 to %d allowed)", n, MaxScrapeHashes)
		}
		r := &ScrapeRequest{ConnectionID: connID, TransactionID: tid, InfoHashes: make([][20]byte, n)}
		for i := range r.InfoHashes {
			copy(r.InfoHashes[i][:], rest[20*i:])
		}
		return r, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrBadAction, action)
}

// parseOptions collects the BEP 41 URL data in opts, stopping at the end
// option, at an unknown option or at a truncated one.
func parseOptions(opts []byte) string {
	var data []byte
	for len(opts) > 0 {
		switch opts[0] {
		case optionEndOfOptions:
			return string(data)
		case optionNOP:
			opts = opts[1:]
		case optionURLData:
			if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
				return string(data)
			}
			n := int(opts[1])
			if len(data)+n > maxURLData {
				return string(data)
			}
			data = append(data, opts[2:2+n]...)
			opts = opts[2+n:]
		default:
			return string(data)
		}
	}
	return string(data)
}

// ParseResponse decodes a packet a client received: it returns a
// *ConnectResponse, *AnnounceResponse, *ScrapeResponse or *ErrorResponse.
// ipv6 selects the 18-byte peer entries a tracker sends over IPv6 (BEP 15
// decides the format by the family of the socket). Peer bytes that are not a
// whole number of entries are an error.
func ParseResponse(b []byte, ipv6 bool) (any, error) {
	if len(b) < ResponseHeaderLen {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrShortPacket, len(b))
	}
	action := Action(binary.BigEndian.Uint32(b))
	tid := binary.BigEndian.Uint32(b[4:])
	switch action {
	case ActionConnect:
		if len(b) < ConnectResponseLen {
			return nil, fmt.Errorf("%w: connect response of %d bytes", ErrShortPacket, len(b))
		}
		return &ConnectResponse{TransactionID: tid, ConnectionID: binary.BigEndian.Uint64(b[8:])}, nil
	case ActionAnnounce:
		if len(b) < AnnounceResponseMin {
			return nil, fmt.Errorf("%w: announce response of %d bytes", ErrShortPacket, len(b))
		}
		r := &AnnounceResponse{
			TransactionID: tid,
			Interval:      binary.BigEndian.Uint32(b[8:]),
			Leechers:      binary.BigEndian.Uint32(b[12:]),
			Seeders:       binary.BigEndian.Uint32(b[16:]),
		}
		stride := compact.IPv4Len
		if ipv6 {
			stride = compact.IPv6Len
		}
		peers, err := compact.ParseList(b[AnnounceResponseMin:], stride)
		if err != nil {
			return nil, fmt.Errorf("trackerwire: announce response: %w", err)
		}
		r.Peers = peers
		return r, nil
	case ActionScrape:
		rest := b[ResponseHeaderLen:]
		if len(rest)%ScrapeEntryLen != 0 {
			return nil, fmt.Errorf("trackerwire: scrape response with %d bytes of entries", len(rest))
		}
		r := &ScrapeResponse{TransactionID: tid, Entries: make([]ScrapeEntry, len(rest)/ScrapeEntryLen)}
		for i := range r.Entries {
			e := rest[ScrapeEntryLen*i:]
			r.Entries[i] = ScrapeEntry{
				Seeders:   binary.BigEndian.Uint32(e),
				Completed: binary.BigEndian.Uint32(e[4:]),
				Leechers:  binary.BigEndian.Uint32(e[8:]),
			}
		}
		return r, nil
	case ActionError:
		return &ErrorResponse{TransactionID: tid, Message: string(b[ResponseHeaderLen:])}, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrBadAction, action)
}
