package bt

// Suggesting pieces (BEP 6). A piece just downloaded and verified was
// written a moment ago and is still in the page cache, so serving it costs
// no disk read. It is suggested to the peers that can ask for it at once:
// interested, unchoked by us, without the piece, and speaking the fast
// extension. This is what libtorrent does when it suggests from its read
// cache. Other pieces are not suggested: which of them the kernel still
// caches is unknown to us.

// suggestCached suggests piece i, just verified, to the peers that lack it.
func (t *Torrent) suggestCached(i int) {
	if !t.uploadAllowed() {
		return
	}
	for p := range t.peers {
		if !p.started || !p.peerInterested || p.amChoking || p.seed || !p.conn.SupportsFast() {
			continue
		}
		if i < p.has.Len() && p.has.Has(i) {
			continue
		}
		p.conn.Suggest(i)
	}
}
