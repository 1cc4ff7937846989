// Package tracker is the client side of BitTorrent trackers: announces and
// scrapes over HTTP(S) (BEP 3, BEP 23 compact peers, BEP 7 IPv6 peers, BEP
// 48 scrape) and UDP (BEP 15, with BEP 41 URL data), and an Announcer that
// keeps one torrent announced to its tiers of trackers (BEP 12).
//
// A Client performs single requests. Replies are treated as hostile: bodies
// are capped (1 MiB by default, after gzip decompression too), non-bencode
// and HTML replies, compact strings of a wrong length and malformed UDP
// packets are errors (*ResponseError), a tracker's refusal is a
// *FailureError, and UDP datagrams from another address or with another
// transaction id are ignored. Redirects are followed at most five times, and
// never from a public tracker to a loopback, private or link-local address.
//
// An Announcer runs one torrent's announces: "started" first, then regular
// announces at the tracker's interval clamped to [1 minute, 1 hour] by
// default, "completed" once when told, and "stopped" when its context ends.
// Its Trackers method is the per-tier report of AnyEvent::BitTorrent's
// trackers() (see the seed map below).
//
// In an engine: share one Client between torrents; give each torrent an
// Announcer with Tiers(announce, announceList) (a magnet's tr= trackers one
// to a tier), the listening port, a Stats function reading the torrent's
// counters and a Peers function that queues addresses for dialling; run it
// for as long as the torrent is started, call Completed when the last
// wanted piece is verified and Reannounce when short of peers, and cancel
// Run's context to stop (Run returns after the "stopped" announces, within
// StopTimeout).
//
// Private torrents (BEP 27) must be announced only to their own trackers:
// the engine gives the Announcer the torrent's tiers and nothing else, and
// does not use DHT or PEX for them. The package itself does not know whether
// a torrent is private.
//
// Seed (AnyEvent::BitTorrent) to Go:
//
//	trackers()         Announcer.Trackers() []TierStatus
//	  complete           TierStatus.Complete
//	  incomplete         TierStatus.Incomplete
//	  failures           TierStatus.Failures (consecutive, reset on success)
//	  peers              TierStatus.Peers (IPv4, from the latest reply)
//	  peers6             TierStatus.Peers6 (IPv6, BEP 7)
//	  urls               TierStatus.URLs (working tracker first)
//	start()  "started"   Announcer.Run
//	stop()   "stopped"   cancelling Run's context
//	completion           Announcer.Completed
//
// The tracker server is package tracker/server.
package tracker
