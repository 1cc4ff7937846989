// Package metadata implements ut_metadata, the extension for peers to send
// metadata files (BEP 9), as a plugin of the wire package's extension
// protocol (BEP 10). It is what makes magnet links work: a client that knows
// only a torrent's info hash fetches the info dictionary from its peers.
//
// The metadata is the bencoded info dictionary, whose SHA-1 is the info
// hash. It travels in pieces of PieceSize (16 KiB) bytes, the last one
// shorter, in three kinds of message: request, data (with total_size and the
// piece's bytes after the dictionary) and reject.
//
// # Serving
//
// A peer that has the metadata installs an Extension made with
// Config.Info on each connection. The Extension adds metadata_size to our
// extended handshake and answers requests with data; it rejects requests
// for pieces that do not exist and, as flood protection, those beyond
// ServeFactor times the number of pieces on one connection.
//
// # Fetching
//
// For a magnet link, one Fetcher serves the torrent and every connection gets
// an Extension made with Config.Fetcher:
//
//	f := metadata.NewFetcher(infoHash, metadata.FetcherConfig{})
//	conn.Use(metadata.New(metadata.Config{Fetcher: f})) // on every connection
//	info, infoBytes, err := f.WaitInfo(ctx)
//
// The Fetcher spreads requests over the peers that announced a usable
// metadata_size (up to MaxOutstanding each). Once every missing piece is
// asked of someone, a peer with room is asked for pieces already asked of
// others, up to three peers a piece, so a silent or lying peer delays no
// one; peers that have answered are asked first. A request not answered in
// time is asked of another peer (an answer that comes later is still
// taken): the time-out is RequestTimeout (5 s) until some peer has
// answered, then four times the quickest answer seen, at least
// MinRequestTimeout (1 s). A peer is no longer asked after MaxRejects
// rejects or MaxTimeouts time-outs (unless no other peer is left). The
// assembled metadata is verified against the info hash. Hostile peers are
// bounded: a metadata_size that is not positive or exceeds MaxSize (default
// DefaultMaxSize, 32 MiB) is ignored; memory grows only with pieces actually
// received; when peers announce different sizes one size is fetched at a
// time; data not asked for is ignored. A data message for a piece that does
// not exist, of the wrong length or with a total_size that changes closes
// the connection (ErrBadData). When the metadata fails the hash, a peer
// that supplied all of it is banned from the Fetcher (by address) and
// disconnected (ErrBadMetadata); when several supplied it, they are asked
// one at a time until the culprit is found. Once it has the metadata, each
// connection's Extension serves it too, and announces metadata_size on
// connections made afterwards.
//
// # libtorrent
//
// Tested against libtorrent 2.0 (see libtorrent_test.go) both ways: we
// fetch the info dictionary of a torrent from a libtorrent seed knowing only
// its info hash, and a libtorrent session given only a magnet link and our
// address fetches it from us. libtorrent asks for metadata only from peers
// whose extended handshake carries metadata_size, and hangs up once it has
// the metadata if we have no pieces.
package metadata
