package wire

import (
	"errors"
	"fmt"
	"net"
	"sort"

	"github.com/bt-go/bt/bencode"
)

// Extension is a BEP 10 extension plugged into a Conn with Use (the seed's
// wire.use(ext)). Its methods run on the connection's goroutines, one call
// at a time, like a Handler's.
type Extension interface {
	// Name is the extension's key in the "m" dictionary, e.g. "ut_pex".
	Name() string
	// ExtendHandshake adds fields to our extended handshake before it is sent.
	ExtendHandshake(h *ExtendedHandshake)
	// PeerHandshake reports the peer's extended handshake; supported says
	// whether its "m" names this extension with a non-zero id. It is called
	// again if the peer sends another extended handshake.
	PeerHandshake(c *Conn, h *ExtendedHandshake, supported bool)
	// HandleMessage receives a message for this extension. payload is valid
	// only during the call. A non-nil error closes the connection.
	HandleMessage(c *Conn, payload []byte) error
	// Close reports that the connection closed: release timers and goroutines.
	Close(c *Conn)
}

// ErrExtensionNotSupported reports an extended message to a peer that did
// not negotiate BEP 10 or does not name the extension in its "m".
var ErrExtensionNotSupported = errors.New("wire: extension not supported by peer")

// ExtendedHandshake is the handshake of the extension protocol (BEP 10),
// extended message 0: a dictionary whose well-known keys have fields here.
type ExtendedHandshake struct {
	// M maps extension names to the message ids the sender wants to
	// receive them with (0: disabled).
	M map[string]int
	// V is the client's name and version, P its listen port, Reqq the
	// number of outstanding requests it accepts.
	V    string
	P    int
	Reqq int
	// YourIP is the receiver's address as the sender sees it (4 or 16
	// bytes); IPv4 and IPv6 are the sender's own addresses.
	YourIP []byte
	IPv4   []byte
	IPv6   []byte
	// MetadataSize is the size of the info dictionary (BEP 9); zero if
	// absent. A negative value received is reported as zero.
	MetadataSize int64
	// UploadOnly is BEP 21's upload_only: the sender is a seed or does not
	// download.
	UploadOnly bool
	// Extra holds further fields to send, by key; values are encoded with
	// package bencode.
	Extra map[string]any
	// Raw holds every field received, by key, as its encoded value.
	Raw map[string]bencode.RawMessage
}

// marshal encodes h as a bencoded dictionary. Extra fields override the
// well-known ones.
func (h *ExtendedHandshake) marshal() ([]byte, error) {
	d := make(map[string]any, 10+len(h.Extra))
	m := make(map[string]int64, len(h.M))
	for k, v := range h.M {
		m[k] = int64(v)
	}
	d["m"] = m
	if h.V != "" {
		d["v"] = h.V
	}
	if h.P > 0 {
		d["p"] = int64(h.P)
	}
	if h.Reqq > 0 {
		d["reqq"] = int64(h.Reqq)
	}
	if len(h.YourIP) > 0 {
		d["yourip"] = h.YourIP
	}
	if len(h.IPv4) > 0 {
		d["ipv4"] = h.IPv4
	}
	if len(h.IPv6) > 0 {
		d["ipv6"] = h.IPv6
	}
	if h.MetadataSize > 0 {
		d["metadata_size"] = h.MetadataSize
	}
	if h.UploadOnly {
		d["upload_only"] = int64(1)
	}
	for k, v := range h.Extra {
		d[k] = v
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("wire: encoding extended handshake: %w", err)
	}
	return b, nil
}

// ParseExtendedHandshake decodes an extended handshake payload. Fields of
// an unexpected type are ignored (left zero); only a payload that is not a
// bencoded dictionary is an error.
func ParseExtendedHandshake(payload []byte) (*ExtendedHandshake, error) {
	h := &ExtendedHandshake{}
	if _, err := bencode.UnmarshalPrefix(payload, &h.Raw); err != nil {
		return nil, err
	}
	var m map[string]any
	if raw, ok := h.Raw["m"]; ok && bencode.Unmarshal(raw, &m) == nil {
		h.M = make(map[string]int, len(m))
		for k, v := range m {
			if id, ok := v.(int64); ok && id >= 0 && id <= 255 {
				h.M[k] = int(id)
			}
		}
	}
	field := func(key string, v any) {
		if raw, ok := h.Raw[key]; ok {
			_ = bencode.Unmarshal(raw, v) // a field of the wrong type stays zero
		}
	}
	var p, reqq, size, uploadOnly int64
	field("v", &h.V)
	field("p", &p)
	field("reqq", &reqq)
	field("yourip", &h.YourIP)
	field("ipv4", &h.IPv4)
	field("ipv6", &h.IPv6)
	field("metadata_size", &size)
	field("upload_only", &uploadOnly)
	if p > 0 && p < 65536 {
		h.P = int(p)
	}
	if reqq > 0 && reqq < 1<<20 {
		h.Reqq = int(reqq)
	}
	if size > 0 {
		h.MetadataSize = size
	}
	h.UploadOnly = uploadOnly != 0
	if len(h.YourIP) != 4 && len(h.YourIP) != 16 {
		h.YourIP = nil
	}
	if len(h.IPv4) != 4 {
		h.IPv4 = nil
	}
	if len(h.IPv6) != 16 {
		h.IPv6 = nil
	}
	return h, nil
}

// Use registers an extension. Call it before Start: extensions get the
// message ids 1..N in the order of Use. A call after Start is ignored.
func (c *Conn) Use(ext Extension) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || len(c.exts) >= 255 {
		c.log.Warn("wire: Use after Start ignored", "extension", ext.Name())
		return
	}
	c.exts = append(c.exts, ext)
}

// ourExtendedHandshake builds the extended handshake we send.
func (c *Conn) ourExtendedHandshake(exts []Extension) *ExtendedHandshake {
	h := &ExtendedHandshake{
		M:    make(map[string]int, len(exts)),
		V:    c.cfg.ClientVersion,
		P:    c.cfg.ListenPort,
		Reqq: c.cfg.MaxPeerRequests,
	}
	for i, e := range exts {
		h.M[e.Name()] = i + 1
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip4 := a.IP.To4(); ip4 != nil {
			h.YourIP = ip4
		} else {
			h.YourIP = a.IP.To16()
		}
	}
	for _, e := range exts {
		e.ExtendHandshake(h)
	}
	return h
}

// ExtendedHandshake returns the extended handshake we sent, or nil.
func (c *Conn) ExtendedHandshake() *ExtendedHandshake {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ourExtendedHS
}

// PeerExtendedHandshake returns the peer's latest extended handshake, or
// nil until one arrived.
func (c *Conn) PeerExtendedHandshake() *ExtendedHandshake {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerExt
}

// PeerExtensions returns the names of the extensions the peer supports.
func (c *Conn) PeerExtensions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.peerExtIDs))
	for k := range c.peerExtIDs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SendExtended sends payload to the peer's extension called name, with the
// id the peer gave it. It fails with ErrExtensionNotSupported if the peer
// did not name it (or sent no extended handshake yet). It is safe from any
// goroutine; payload is copied.
func (c *Conn) SendExtended(name string, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	id := c.peerExtIDs[name]
	if !c.extended || id <= 0 || id > 255 {
		return fmt.Errorf("%w: %s", ErrExtensionNotSupported, name)
	}
	c.appendExtended(byte(id), payload)
	c.signal()
	return nil
}

// handleExtended dispatches an extended message; it runs on the reader.
func (c *Conn) handleExtended(payload []byte) error {
	id, body := payload[0], payload[1:]
	c.mu.Lock()
	exts := c.exts
	c.mu.Unlock()
	if id == 0 {
		h, err := ParseExtendedHandshake(body)
		if err != nil {
			return protoErr(MsgExtended, ErrBadExtendedHandshake, "%v", err)
		}
		c.mu.Lock()
		if c.peerExtIDs == nil {
			c.peerExtIDs = make(map[string]int, len(h.M))
		}
		for k, v := range h.M {
			if v == 0 {
				delete(c.peerExtIDs, k)
			} else {
				c.peerExtIDs[k] = v
			}
		}
		c.peerExt = h
		supported := make([]bool, len(exts))
		for i, e := range exts {
			supported[i] = c.peerExtIDs[e.Name()] != 0
		}
		c.mu.Unlock()
		c.cbMu.Lock()
		defer c.cbMu.Unlock()
		for i, e := range exts {
			e.PeerHandshake(c, h, supported[i])
		}
		c.msg = Message{Type: MsgExtended, ExtendedID: 0, Payload: body}
		c.handler.HandleMessage(c, &c.msg)
		return nil
	}
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	if int(id) <= len(exts) {
		if err := exts[id-1].HandleMessage(c, body); err != nil {
			return fmt.Errorf("wire: extension %s: %w", exts[id-1].Name(), err)
		}
		return nil
	}
	c.msg = Message{Type: MsgExtended, ExtendedID: id, Payload: body}
	c.handler.HandleMessage(c, &c.msg)
	return nil
}
