// Package bt is a BitTorrent engine: a Client runs torrents, and each
// Torrent downloads verified data to disk and then seeds it.
//
//	c, err := bt.NewClient(bt.Config{ListenAddr: ":6881"})
//	t, err := c.Add("some.torrent", &bt.TorrentOptions{Dir: "downloads"})
//	err = t.WaitComplete(ctx)
//
// A zero Config finds peers through the torrent's trackers, PEX and the
// peers it is given. The DHT is off unless asked for, because it opens a
// UDP port and talks to public nodes on the Internet, which a program
// embedding the engine (or its tests) should choose to do. Trackerless
// magnet links need it; the bt command turns it on like this:
//
//	c, err := bt.NewClient(bt.Config{DHT: true, DHTBootstrap: bt.DefaultDHTBootstrap})
//
// # Design
//
// Each torrent's state is owned by one goroutine, an event loop fed by the
// peers' read goroutines, the hashing workers and a timer. There is no
// client-wide lock and no lock is held across network or disk I/O; the
// Torrent's methods send the loop a request and wait for the answer. A peer
// costs the two goroutines of its wire.Conn and nothing more; requests
// from peers are answered from storage on the peer's read goroutine, using
// state the loop publishes atomically (the pieces we have, whether we
// serve).
//
// Pieces are requested rarest first (internal/picker), blocks pipelined by
// time (about the peer's rate × Config.RequestQueueTime, bounded and never
// above the peer's reqq), assembled in memory, hashed whole on a shared
// pool of workers and only then written. Bytes waiting for the disk are
// bounded (Config.DiskQueueBytes): when the bound is reached the loop stops
// taking peer events, so the peers' sockets stop being read. A HAVE goes to
// every peer once a piece is verified and written; completion is reported
// only after the data is synced to disk. A storage error stops the torrent
// with the error (Torrent.Err, EventError); it never retries in a loop.
//
// Upload slots are given by a tit-for-tat choker with an optimistic slot
// (internal/choker); seeding continues after completion unless
// Config.NoSeed. The fast extension (BEP 6) is used in full: have-all and
// have-none, the allowed-fast set computed as the BEP specifies, reject
// instead of silent drop. A peer that sent data for a piece failing its
// hash is banned on evidence: alone in the piece, or its block's hash
// differing from the one that later passed (smart ban); peers sharing a
// failed piece with it are cleared. Connections to ourselves, duplicate
// connections and idle peers are dropped (a peer that connects again from
// the same address replaces its stale connection); connections are
// bounded per torrent and per client.
//
// Peers come from TorrentOptions.Peers and Torrent.AddPeers, from incoming
// connections (one listening port serves all torrents: the handshake's
// info hash chooses), from PEX (ut_pex: learnt and told), from the
// torrent's trackers (BEP 12 tiers, Torrent.Trackers, Torrent.AddTrackers),
// from the DHT (Config.DHT: one node per client on the listening port
// number), and from PeerSource implementations. Private torrents (BEP 27)
// use only their own trackers: no DHT, no PEX.
//
// Connections may be encrypted with Message Stream Encryption (package
// wire/mse), the obfuscated handshake and RC4 stream most clients speak.
// Config.Encryption sets the policy in Transmission's words: tolerated
// (the default: plaintext first, MSE at once when a peer hangs up on it,
// and a plaintext stream when an MSE peer offers the choice), preferred
// (MSE with RC4 first, plaintext if refused), required (RC4 only, both
// ways) or disabled. The one listening port tells the two kinds of
// incoming handshake apart by their first bytes and finds the torrent of
// an MSE one among all the client's torrents; whatever carries a
// connection (TCP, or Config.Dial and Config.Listener's transport), it
// goes through the same path. PeerInfo.Encryption shows what each
// connection became, and PEX flags RC4 peers "prefers encryption" (0x01)
// and dials peers so flagged with MSE first.
//
// # The seed's API
//
// The client described by AnyEvent::BitTorrent maps onto this package as
// follows.
//
//	AnyEvent::BitTorrent->new(...)   Client.Add / AddTorrentFile / AddTorrent / AddMagnet
//	AE::cv->recv (run until done)    Torrent.WaitComplete(ctx); Client.Close or NewClientContext's ctx to end
//	  path                           the .torrent path (or magnet) given to Client.Add
//	  basedir                        TorrentOptions.Dir (default Config.DataDir)
//	  port                           Config.ListenAddr (one port for all torrents)
//	  on_hash_pass, on_hash_fail     TorrentOptions.OnEvent: EventHashPass, EventHashFail (Event.Piece: the index)
//	  state                          TorrentOptions.State: Started, Paused, Stopped
//	  piece_cache                    Config.StateDir: resume data kept and reused per torrent
//	piece_cache()                    none needed: the record (pieces, part file, priorities) is
//	                                 written to Config.StateDir as the torrent runs and on Stop/Close
//	hashcheck(...)                   Torrent.HashCheck(pieces ...int)
//	start, stop, pause               Torrent.Start, Torrent.Stop, Torrent.Pause
//	infohash                         Torrent.InfoHash
//	peerid                           Torrent.PeerID (Client.PeerID: "-BT0010-" + 12 random bytes)
//	port                             Torrent.Port (Client.Port)
//	size                             Torrent.Size
//	name                             Torrent.Name
//	uploaded, downloaded             Torrent.Uploaded, Torrent.Downloaded
//	left                             Torrent.Left
//	piece_length                     Torrent.PieceLength
//	bitfield                         Torrent.Bitfield
//	wanted                           Torrent.Wanted
//	complete                         Torrent.Complete (and WaitComplete, EventComplete)
//	seed                             Torrent.Seeding
//	files (length, path, priority)   Torrent.Files, Torrent.SetFilePriority
//	peers                            Torrent.Peers (address, client, flags, rates, progress)
//	state                            Torrent.State
//	trackers                         Torrent.Trackers ([]tracker.TierStatus: URLs, Complete,
//	                                 Incomplete, Failures, Peers, Peers6, LastError)
//	(errors)                         Torrent.Err, EventError
//	PeerID specification (-AB110S-)  Azureus style: "-BT0010-" (client BT, version 0010); ClientName
//	                                 decodes other clients' ids (PeerInfo.Client)
//	requests, cancels                pipelined by time (Config.RequestQueueTime); the end game cancels
//	                                 duplicates; peers' cancels honoured by package wire
//	disconnect idle peers            Config.IdleTimeout (3 min)
//	unchoke folks                    internal/choker: Config.UploadSlots regular slots + an optimistic one
//	fast extensions                  BEP 6 in full (package wire; allowed-fast set as BEP 6 computes it)
//	HTTP trackers; later DHT, IPv6,  package tracker (HTTP and UDP), Config.DHT (package dht), IPv6
//	UDP trackers                     peers, trackers and DHT alike
//	never: encryption, uTP, endgame  MSE/PE encryption (Config.Encryption, package wire/mse); no uTP;
//	                                 the end game is done (see Design)
package bt
