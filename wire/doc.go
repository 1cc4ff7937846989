// Package wire speaks the BitTorrent peer wire protocol with one peer: the
// handshake and every message of BEP 3 (with BEP 5's port), the Fast
// extension (BEP 6) and the extension protocol (BEP 10) with plugins.
//
// # Connections
//
// A Conn runs over any io.ReadWriteCloser (NewConn), a dialed TCP
// connection (Dial) or one accepted by a Listener, which reads the peer's
// handshake up to the info hash first and lets the caller pick the torrent:
// one port serves many torrents. The handshake's reserved bits announce DHT
// (BEP 5), Fast (BEP 6) and the extension protocol (BEP 10); Fast and BEP 10
// are on by default. After the handshakes, register extensions with Use,
// queue a Bitfield, HaveAll or HaveNone, then Start the Conn with a Handler.
//
// The Handler receives every message as a *Message whose fields carry the
// spec's names (Index, Begin, Length, Block, Bitfield, Port), after the
// Conn has updated its state (choking and interest, initially choked and
// not interested on both sides; the peer's pieces), and the other events
// as an Event: download, upload, timeout, waste and close. Handler and
// Extension calls of one Conn never overlap; they run on the connection's
// reader goroutine, or on its writer goroutine for time-outs, uploads and
// canceled requests, so they must not block: hand disk reads to another
// goroutine and answer with Piece, which is safe from any goroutine.
//
// # Requests
//
// Request sends a request and calls its completion with the block or with
// ErrChoked (a choke without the Fast extension discards requests),
// ErrRejected, ErrTimeout (SetTimeout), ErrCanceled or ErrClosed. Received
// blocks live in pooled 16 KiB buffers, valid only during the completion
// and Handler calls: copy what you keep. A piece that answers no request of
// ours is dropped and counted as waste (Stats.Waste, EventWaste).
//
// The peer's requests are checked against the torrent's geometry, then kept
// in PeerRequests until answered with Piece or refused with Reject. At most
// Config.MaxPeerRequests are pending (the reqq we advertise); further
// ones, and requests while we choke the peer outside the allowed-fast set,
// are rejected with the Fast extension and ignored without it. Choke
// discards pending requests (with the Fast extension, rejecting each). A
// request does not multiply our upload: a duplicate of one pending is
// dropped, a block among the last 64 queued for the peer is queued once
// more at most (a peer whose piece failed its hash asks for all of it
// again) and further requests for it are rejected, and more than
// Config.MaxDuplicates such duplicates close the connection with
// ErrDuplicateRequests. Canceling an unknown request is harmless.
//
// # Hostile peers
//
// Every frame's length is checked against its message id before anything
// is allocated; no frame may exceed MaxFrame (1 MiB), except a bitfield of
// exactly the torrent's size. A peer that breaks the protocol — unknown
// message ids, wrong lengths, Fast or BEP 10 messages it did not
// negotiate, a bitfield of the wrong size or with spare bits set, indices
// out of range, requests longer than Config.MaxRequestLength (16 KiB by
// default, as BEP 3 says; up to 128 KiB if configured) or past the end of
// the piece (computed in 64 bits), a malformed extended handshake — ends
// the connection with a *ProtocolError wrapping a sentinel such as
// ErrMessageLength or ErrBadRequest. Haves received before the number of
// pieces is known (a magnet link; see SetTorrentSize) are kept in a bitmap
// no larger than a bitfield frame.
//
// # Performance
//
// A Conn runs two goroutines and one timer. Messages queued while the
// writer is busy go out together in one write; piece data is copied once
// into a pooled block and written with writev after its header. Request,
// piece, have and the other fixed-size messages cost no allocation in
// steady state (BenchmarkRequestPiece reports 0 allocs/op).
//
// # Interoperability
//
// The tests download pieces from libtorrent 2.0, Transmission 3.00 and
// aria2 1.36 seeds and have libtorrent download a whole torrent from a
// Listener, all over loopback. A Conn runs over any stream; Message Stream
// Encryption is package wire/mse, which turns a net.Conn into a net.Conn:
// dial with ClientHandshake over an mse.Client (the handshake travels as
// MSE's initial payload) and accept with ListenConfig.Wrap calling
// mse.Server, which also passes plaintext handshakes through. There is no
// uTP (libtorrent 2.0 tries uTP first and falls back to TCP after a
// time-out). AllowedFastSet computes BEP 6's canonical
// allowed-fast set.
//
// # The seeds' names
//
// The seeds are Peerface (P) and peer-wire-protocol (W), both JavaScript.
//
//	Seed                                             Go
//	P Peerface.listen(port)                          Listen(addr, ListenConfig), NewListener
//	P Peerface.connect(ip, port)                     Dial(ctx, addr, cfg)
//	P server.on('peer-connected', fn(peer))          ListenConfig.Connected
//	P server.on('error') / 'stopping' / 'stop'       ListenConfig.Error / Stopping / Stopped; Listener.Close
//	W pwp(); socket.pipe(wire).pipe(socket)          NewConn(ctx, rwc, cfg)
//	P peer.handshake(peerId, infoHash)               Config.PeerID, Config.InfoHash (sent by Dial/NewConn/Listener)
//	W wire.handshake(infoHash, peerId, {dht:true})   Config{InfoHash, PeerID, DHT: true}
//	P/W on('handshake', infoHash, peerId, exts)      Conn.PeerHandshake() {InfoHash, PeerID, Reserved}; ListenConfig.Torrent
//	P Message object, spec-named properties          Message {Type, Index, Begin, Length, Block, Bitfield, Port, ...}
//	P/W on('keep-alive'), keepAlive()                MsgKeepAlive; Conn.KeepAlive
//	W setKeepAlive(true)                             Conn.SetKeepAlive(d), Config.KeepAlive (default 90 s)
//	P/W on('choke'), on('unchoke'), choke()...       MsgChoke, MsgUnchoke; Conn.Choke, Conn.Unchoke
//	P/W on('interested'), interested()               MsgInterested; Conn.Interested
//	P on('not-interested'), notInterested()          MsgNotInterested; Conn.NotInterested
//	W on('uninterested')                             MsgNotInterested; Conn.NotInterested
//	W amChoking, peerChoking                         Conn.AmChoking, Conn.PeerChoking
//	W amInterested, peerInterested                   Conn.AmInterested, Conn.PeerInterested
//	P/W have(i), on('have', i)                       Conn.Have; MsgHave (Message.Index)
//	P/W bitfield(bf), on('bitfield', bf)             Conn.Bitfield(bitfield.Bitfield); MsgBitfield (Message.Bitfield)
//	W peerPieces[i]                                  Conn.PeerHas(i), Conn.PeerPieces
//	P request(index, begin, length)                  Conn.Request(index, begin, length, nil)
//	W request(piece, offset, length, cb(err, block)) Conn.Request(index, begin, length, func(block, err))
//	P/W on('request', ..., callback)                 MsgRequest; answer with Conn.Piece (callback(null, piece))
//	                                                 or Conn.Reject (callback(err))
//	P piece(index, begin, bytes), on('piece')        Conn.Piece; MsgPiece (Message.Block)
//	P/W cancel(...), on('cancel')                    Conn.Cancel; MsgCancel
//	W requests, peerRequests {piece,offset,length}   Conn.Requests, Conn.PeerRequests ([]Request{Index, Begin, Length})
//	W setTimeout(ms), on('timeout')                  Conn.SetTimeout(d), Config.RequestTimeout; EventTimeout, ErrTimeout
//	P/W port(p), on('port', p)                       Conn.Port; MsgPort (Message.Port)
//	W uploaded, downloaded                           Conn.Uploaded, Conn.Downloaded; Conn.Stats (payload and protocol, rates)
//	W on('download', n), on('upload', n)             EventDownload, EventUpload (Event.Bytes)
//	P on('close', hadError), on('error', err)        EventClose (Event.Err); Conn.Err, Conn.Done
//	W wire.use(ext) (ut_pex seed)                    Conn.Use(Extension); Conn.SendExtended; Conn.PeerExtendedHandshake
//	BEP 6 have all/none, suggest, reject, allowed    Conn.HaveAll, HaveNone, Suggest, Reject, AllowedFast; Msg* of the same names
//	BEP 10 extended message                          Conn.Extended(id, payload); MsgExtended
package wire
