// Package bt is a BitTorrent engine: a Client runs torrents, each Torrent
// downloads verified data to disk and seeds it.
//
// Each torrent's state is owned by one goroutine, an event loop fed by the
// peers' read goroutines, the hashing workers and a timer; no lock is held
// across network or disk I/O. Pieces are assembled in memory, hashed whole,
// then written with back-pressure (when the disk queue is full, the loop
// stops taking peer events, so their sockets stop being read); a HAVE goes
// to every peer only once the piece is verified and written.
package bt
