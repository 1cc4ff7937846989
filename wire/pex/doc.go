// Package pex implements ut_pex, the Peer Exchange extension (BEP 11), as a
// plugin of the wire package's extension protocol (BEP 10).
//
// Peers connected to the same torrent tell each other which peers they are
// connected to. One Extension serves one connection: create it with New,
// install it with the connection's Use before Start, and call Start to
// announce the peers given to AddPeer. Peers the remote announces are
// reported through Config.OnPeer and Config.OnDropped.
//
//	ext := pex.New(pex.Config{
//		OnPeer: func(addr netip.AddrPort, f pex.Flags) { /* a candidate to dial */ },
//	})
//	conn.Use(ext)
//	conn.Start(handler)
//	ext.AddPeer(netip.MustParseAddrPort("192.0.2.7:6881"))
//	ext.Start()
//
// # From the seed's API
//
// The seed document describes ut_pex for the JavaScript bittorrent-protocol
// wire. Its names map to Go as follows:
//
//	seed (JavaScript)                  Go
//	wire.use(ut_pex())                 conn.Use(pex.New(cfg))
//	wire.ut_pex.start()                (*Extension).Start
//	wire.ut_pex.stop()                 (*Extension).Stop
//	wire.ut_pex.reset()                (*Extension).Reset
//	wire.ut_pex.addPeer('ip:port')     (*Extension).AddPeer(netip.AddrPort), AddPeerFlags
//	wire.ut_pex.dropPeer('ip:port')    (*Extension).DropPeer(netip.AddrPort)
//	on('peer', function (peer))        Config.OnPeer func(addr netip.AddrPort, flags Flags)
//	on('dropped', function (peer))     Config.OnDropped func(addr netip.AddrPort)
//	(none)                             (*Extension).Peers, ParseMessage, (*Message).Marshal, Flags
//
// As in the seed, the events do not fire when the remote does not support
// ut_pex; peers are "ip:port" strings there and netip.AddrPort here, with the
// BEP 11 flags decoded (FlagPrefersEncryption, FlagSeed, FlagUTP,
// FlagHolepunch, FlagReachable).
//
// # What is sent
//
// Messages carry the difference between the peers given to AddPeer (minus
// DropPeer) and what the remote already learnt from us, so a peer added and
// dropped between two messages is never mentioned, nothing is added and
// dropped in the same message, and only peers the remote learnt of are ever
// dropped. The first message carries the current set (up to MaxFirstAdded
// peers); later ones at most MaxAdded added and MaxDropped dropped, and never
// more than one message per Interval (a minute). Our own addresses
// (Config.Self, our listen port on the connection's local address and on the
// address the remote says it sees) and the remote's are never sent. Every
// added list is sent with its flag string: libtorrent ignores one without.
//
// # What is accepted
//
// Received messages are read as libtorrent reads them. A payload that is not
// a bencoded dictionary closes the connection (ErrInvalidMessage), and so
// does a peer sending more than Config.MaxPerMinute messages (default 6) in
// any minute (ErrTooFrequent). Everything else is lenient and bounded:
// fields of the wrong type are ignored, a compact string's trailing partial
// entry is ignored, missing flag bytes read as 0, entries with port 0 or an
// address that cannot be a peer are skipped, at most MaxParsedEntries added
// and dropped entries are read from a message, loopback and private
// addresses are accepted only from a remote that is itself loopback or
// private, and at most Config.MaxRemotePeers peers are remembered per
// connection.
//
// # libtorrent
//
// Tested against libtorrent 2.0 (see libtorrent_test.go): libtorrent sends
// its full peer list about one second after the extended handshake (on its
// first one-second tick once it has two peers), then a difference at most
// once a minute, computed on a per-torrent one-minute timer. A peer that
// joins and leaves between two of those computations is never announced as
// dropped to connections that received it in the full list. libtorrent
// dials a peer we announce within milliseconds when it wants peers.
package pex
