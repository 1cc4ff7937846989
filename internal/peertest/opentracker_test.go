package peertest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOpentrackerAnnounce(t *testing.T) {
	t.Parallel()
	ih := strings.Repeat("ab", 20)
	httpURL, udpURL := StartOpentracker(t, ih)
	if !strings.HasPrefix(udpURL, "udp://127.0.0.1:") {
		t.Fatalf("udp url %s", udpURL)
	}
	raw := string([]byte{0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
		0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab})
	q := "info_hash=" + url.QueryEscape(raw) + "&peer_id=" + url.QueryEscape("-XX0000-abcdefghijkl") +
		"&port=6881&uploaded=0&downloaded=0&left=0&compact=1&event=started"
	resp, err := http.Get(httpURL + "?" + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "8:interval") {
		t.Fatalf("announce reply %q", body)
	}
}

// TestOpentrackerAwkwardInfoHashes: the whitelist probe is escaped so that
// opentracker reads every byte back, a space (0x20) and a plus sign among
// them.
func TestOpentrackerAwkwardInfoHashes(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"20", "2b", "25", "00", "ff"} {
		StartOpentracker(t, strings.Repeat(b, 20))
	}
}
