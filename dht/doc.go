// Package dht is a node of the BitTorrent Mainline DHT: the Kademlia
// network that maps info hashes to the peers of a torrent, so that a magnet
// link or a trackerless torrent finds peers (BEP 5, with IPv6 from BEP 32,
// secure node ids from BEP 42 and read-only nodes from BEP 43).
//
// # Use
//
// New opens a UDP socket and starts the node; Close stops it and waits for
// everything it started. GetPeers looks up the peers of an info hash,
// Announce tells the network that we are one (with BEP 5's implied_port if
// asked), AddNode gives the node a contact (the engine passes the address
// and port of each peer's PORT message), and Stats reports counters. The
// routing table is saved in Config.StateFile on Close (and every ten
// minutes) and reused on the next start.
//
// # Protocol
//
//   - KRPC over UDP: ping, find_node, get_peers and announce_peer (with
//     implied_port), answered and sent. Messages are parsed by a small
//     bounded codec (internal/krpc) rather than by package bencode: every
//     datagram from the Internet goes through it, so it decodes the fixed
//     KRPC shape straight into a struct with bounded strings and depth.
//   - Routing table: buckets of K (8) nodes; the bucket holding our own id
//     splits. A node is good if it answered us in the last 15 minutes (or
//     answered once and queried us in the last 15 minutes), bad after two
//     unanswered queries in a row, questionable otherwise. When a bucket is
//     full, a new node waits in a replacement cache of K and the least
//     recently seen questionable node is pinged; bad nodes are replaced.
//     Buckets unchanged for 15 minutes are refreshed by a lookup of a random
//     id in their range.
//   - Joining: a lookup of our own id, which also asks one random node of
//     each bucket (so that groups of nodes that joined at the same moment
//     and only know each other are found), then a refresh of every bucket.
//     It runs when the first node answers us, and again with a doubling
//     delay (2 s up to 5 min) while the table holds fewer than K nodes.
//     Bootstrap nodes (Config.Bootstrap) and saved nodes are only contacted;
//     a node enters the table only by answering one of our queries.
//   - Lookups are iterative with Alpha (default 4) queries in flight; a query
//     outstanding for half the timeout stops holding its slot; a lookup ends
//     when the K closest nodes that did not fail have all answered.
//   - Tokens: the first 8 bytes of HMAC-SHA1(secret, requester IP). The
//     secret changes every 5 minutes and the previous one is still accepted,
//     so a token lives 5 to 10 minutes and only for the IP it was given to.
//   - IPv4 and IPv6 (BEP 32): one socket and one routing table per family.
//     Bound to an unspecified IPv6 address (":6881") the socket serves both
//     families, sends want=[n4,n6] and answers with nodes and nodes6 as
//     asked; bound to a specific address it serves that address's family.
//   - BEP 42: with Config.ExternalIP the node id is derived from it
//     (SecureID). Responses carry the requester's address in "ip". Ids of
//     responders that break BEP 42 are counted (Stats.NonSecureIDs); by
//     default they are otherwise treated like any other, as BEP 42 asks for
//     a transition period (local addresses are exempt anyway). With
//     Config.EnforceSecureIDs they are kept out of the routing table, do not
//     end lookups and are not announced to. We do not vote on the "ip"
//     values others report to us, so the id does not follow a changing
//     external address by itself.
//   - BEP 43: with Config.ReadOnly the node answers no query and sets "ro"
//     in its queries; queriers that set "ro" are never put in our table.
//
// # Defence
//
// Hostile traffic is normal traffic:
//
//   - Malformed KRPC, transaction ids over 16 bytes, tokens over 64 bytes,
//     ids not 20 bytes, "nodes" strings whose length is not a multiple of
//     26 (38 for nodes6), peer values not 6 or 18 bytes, and ports out of
//     range are dropped unanswered (Stats.Malformed).
//   - A reply is accepted only with a transaction id we issued, from the
//     address we sent that query to (otherwise Stats.Unsolicited).
//   - Queries are limited per source IP by a token bucket (Config.QueryRate,
//     default 25/s with bursts of 50); the excess is dropped silently.
//   - announce_peer without a token we issued to that IP gets error 203.
//   - No amplification: a reply is at most 4 times the size of the query
//     that caused it; peer values and node lists are cut to fit. Measured
//     (TestNoAmplification): ping 1.05×, find_node 3.0×, get_peers 3.1×
//     with nodes and 3.97× with values (36 IPv4 peers for a 94-byte query).
//   - No third parties: what a query makes us send goes to its source
//     address only: the reply, and (if its sender is new to us and its
//     bucket has room) one ping to verify it before it enters the table. We
//     never contact an address because a query named it.
//   - Bounded memory whatever the network sends: the routing table (at most
//     160 buckets of K nodes plus K replacements), the peer store
//     (Config.MaxPeersPerHash, MaxPeers, MaxInfoHashes; entries expire after
//     30 minutes), outstanding queries (8192), our own pings (256, one per
//     address), rate-limited addresses (4096; newcomers beyond that share one
//     bucket), each lookup (256 candidates, 256 queries, 4096 peers), and
//     the state file (2048 nodes per family).
//
// # Concurrency
//
// A Server runs one goroutine reading the socket and one for maintenance. A
// lookup runs on its caller's goroutine (GetPeers starts one per call);
// its queries are entries in a table of pending transactions with
// deadlines, not goroutines. One mutex guards the node's state and is never
// held while sending.
package dht
