// Package wire speaks the BitTorrent peer wire protocol with one peer: the
// handshake and every message of BEP 3 (with BEP 5's port), the Fast
// extension (BEP 6) and the extension protocol (BEP 10) with plugins.
//
// A Conn runs over any io.ReadWriteCloser (NewConn), a dialed TCP
// connection (Dial) or one accepted by a Listener, which reads the peer's
// handshake first and lets the caller pick the torrent by info hash. After
// the handshakes, register extensions with Use, then Start the Conn with a
// Handler that receives every message as a Message whose fields carry the
// spec's names, and the connection's events.
package wire
