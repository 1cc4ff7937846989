package tracker

// Tiers returns a torrent's trackers as BEP 12 tiers, ready for
// AnnouncerConfig.Tiers: the announce-list when it names any tracker (BEP
// 12 says the plain announce key is then ignored), else announce alone.
// Empty URLs and empty tiers are dropped; the slices are copies.
func Tiers(announce string, announceList [][]string) [][]string {
	var out [][]string
	for _, tier := range announceList {
		var t []string
		for _, u := range tier {
			if u != "" {
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			out = append(out, t)
		}
	}
	if len(out) == 0 && announce != "" {
		out = [][]string{{announce}}
	}
	return out
}
