package tracker

import "testing"

// FuzzParseHTTPResponse feeds arbitrary bodies to the announce and scrape
// reply parsers: they must return a reply or an error, never panic, and
// never report peers that cannot be dialled.
func FuzzParseHTTPResponse(f *testing.F) {
	for _, s := range []string{
		"d8:intervali1800e5:peers6:\x0a\x00\x00\x01\x1a\xe1e",
		"d8:intervali1800e12:min intervali60e8:completei3e10:incompletei4e5:peers0:6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\x1a\xe1e",
		"d5:peersld2:ip8:10.0.0.14:porti6881eed2:ip4:junk4:porti1eeee",
		"d14:failure reason12:unregisterede",
		"d15:warning message4:slow10:tracker id3:abce",
		"d5:filesd20:\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14d8:completei1e10:downloadedi2e10:incompletei3eeee",
		"<html></html>",
		"d5:peers5:abcdee",
		"d8:intervali-99999999999999999999ee",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if resp, err := parseAnnounceResponse(body); err == nil {
			for _, p := range resp.Peers {
				if !p.IsValid() || p.Port() == 0 || p.Addr().IsUnspecified() {
					t.Fatalf("undialable peer %v", p)
				}
			}
			if resp.Interval < 0 || resp.Interval > maxRawInterval || resp.Complete < -1 || resp.Incomplete < -1 {
				t.Fatalf("reply out of bounds: %+v", resp)
			}
		}
		if files, err := parseScrapeResponse(body); err == nil {
			for _, r := range files {
				if r.Complete < 0 || r.Downloaded < 0 || r.Incomplete < 0 {
					t.Fatalf("negative count: %+v", r)
				}
			}
		}
	})
}
