package bt

// Reannounce asks the torrent's trackers for peers again, as soon as each
// tracker's minimum interval allows: what a user's "ask trackers for more
// peers" does (Transmission's torrent-reannounce). A stopped torrent has
// no announces running and ignores it.
func (t *Torrent) Reannounce() error {
	return t.call(func() {
		d := &t.disc
		d.mu.Lock()
		for _, a := range d.anns {
			a.Reannounce()
		}
		d.mu.Unlock()
	})
}
