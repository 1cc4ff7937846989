package metadata

import (
	"fmt"

	"github.com/bt-go/bt/wire"
)

var _ wire.Extension = (*Extension)(nil)

// Name returns "ut_metadata", the extension's key in the "m" dictionary.
func (e *Extension) Name() string { return Name }

// ExtendHandshake adds metadata_size to our extended handshake when we have
// the metadata.
func (e *Extension) ExtendHandshake(h *wire.ExtendedHandshake) {
	if n := e.metadataSize(); n > 0 {
		h.MetadataSize = n
	}
}

// PeerHandshake registers the peer with the Fetcher (if any) when it speaks
// ut_metadata and announces a usable metadata_size. A later handshake that
// withdraws ut_metadata or changes the size ends its part in the fetch.
func (e *Extension) PeerHandshake(c *wire.Conn, h *wire.ExtendedHandshake, supported bool) {
	e.handshake(peerKey(c), h.MetadataSize, supported, func(payload []byte) error {
		return c.SendExtended(Name, payload)
	})
}

// HandleMessage answers requests and passes data and rejects to the
// Fetcher. A payload that is not a valid message (ErrInvalidMessage) closes
// the connection; messages of unknown types are ignored.
func (e *Extension) HandleMessage(c *wire.Conn, payload []byte) error {
	return e.handle(payload, func(payload []byte) error {
		return c.SendExtended(Name, payload)
	})
}

// Close withdraws the connection from the Fetcher; its outstanding requests
// go to other peers.
func (e *Extension) Close(c *wire.Conn) { e.close() }

// peerKey identifies a peer for the Fetcher's ban list: its address.
func peerKey(c *wire.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return fmt.Sprintf("conn-%p", c)
}
