package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt/bencode"
)

var (
	testHash = [20]byte{0x01, 0x02, ' ', '+', '%', 0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n'}
	testPeer = [20]byte{'-', 'B', 'T', '0', '0', '0', '1', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'a', 'b'}
)

func testRequest() AnnounceRequest {
	return AnnounceRequest{InfoHash: testHash, PeerID: testPeer, Port: 6881, Left: 1000,
		Event: EventStarted, NumWant: 30, Key: 0xdeadbeef}
}

func mustBencode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := bencode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve starts an HTTP tracker answering every request with h.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/announce"
}

func reply(t *testing.T, v any) http.HandlerFunc {
	body := mustBencode(t, v)
	return func(w http.ResponseWriter, r *http.Request) { w.Write(body) }
}

func TestHTTPAnnounceQuery(t *testing.T) {
	var got url.Values
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/announce" {
			t.Errorf("path %q", r.URL.Path)
		}
		got, _ = url.ParseQuery(r.URL.RawQuery)
		w.Write(mustBencode(t, map[string]any{"interval": 900, "peers": ""}))
	})
	c := &Client{}
	req := testRequest()
	req.TrackerID = "tid 1"
	req.IPv6 = netip.MustParseAddr("2001:db8::1")
	if _, err := c.Announce(context.Background(), u+"?passkey=abc", req); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"info_hash": string(testHash[:]), "peer_id": string(testPeer[:]), "port": "6881",
		"uploaded": "0", "downloaded": "0", "left": "1000", "compact": "1", "event": "started",
		"numwant": "30", "key": "deadbeef", "trackerid": "tid 1", "passkey": "abc", "ipv6": "2001:db8::1",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestHTTPAnnounceReplies(t *testing.T) {
	compact := []byte{10, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2}
	compact6 := append(netip.MustParseAddr("2001:db8::7").AsSlice(), 0x1a, 0xe3)
	for _, tc := range []struct {
		name  string
		reply map[string]any
		peers []string
	}{
		{"compact", map[string]any{"interval": 1800, "min interval": 60, "complete": 3, "incomplete": 4,
			"peers": string(compact), "peers6": string(compact6), "tracker id": "xyz", "warning message": "careful"},
			[]string{"10.0.0.1:6881", "10.0.0.2:6882", "[2001:db8::7]:6883"}},
		{"dictionary", map[string]any{"interval": 1800, "peers": []any{
			map[string]any{"ip": "10.0.0.1", "port": 6881, "peer id": "x"},
			map[string]any{"ip": "2001:db8::7", "port": 6883},
			map[string]any{"ip": "tracker.example", "port": 1}, // a name: skipped
			map[string]any{"ip": "10.0.0.9", "port": 70000},    // bad port: skipped
			"junk",
		}}, []string{"10.0.0.1:6881", "[2001:db8::7]:6883"}},
		{"no peers", map[string]any{"interval": 1800}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := serve(t, reply(t, tc.reply))
			resp, err := (&Client{}).Announce(context.Background(), u, testRequest())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range resp.Peers {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.peers, " ") {
				t.Errorf("peers %v, want %v", got, tc.peers)
			}
			if resp.Interval != 30*time.Minute {
				t.Errorf("interval %v", resp.Interval)
			}
			if tc.name == "compact" {
				if resp.MinInterval != time.Minute || resp.Complete != 3 || resp.Incomplete != 4 ||
					resp.TrackerID != "xyz" || resp.Warning != "careful" {
					t.Errorf("reply %+v", resp)
				}
			} else if resp.Complete != -1 || resp.Incomplete != -1 {
				t.Errorf("counts %d %d, want -1 -1", resp.Complete, resp.Incomplete)
			}
		})
	}
}

func TestHTTPFailureReason(t *testing.T) {
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write(mustBencode(t, map[string]any{"failure reason": "unregistered torrent"}))
	})
	_, err := (&Client{}).Announce(context.Background(), u, testRequest())
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Reason != "unregistered torrent" {
		t.Fatalf("err = %v, want the failure reason", err)
	}
}

func TestHTTPGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(mustBencode(t, map[string]any{"interval": 60, "peers": string([]byte{127, 0, 0, 1, 0, 80})}))
	zw.Close()
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(buf.Bytes())
	})
	resp, err := (&Client{}).Announce(context.Background(), u, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 || resp.Peers[0].String() != "127.0.0.1:80" {
		t.Errorf("peers %v", resp.Peers)
	}
}

// hostileReplies are HTTP tracker behaviours each of which must end in a
// clear error; the announcer test counts them in the tier report too.
func hostileReplies(t *testing.T) map[string]struct {
	h     http.HandlerFunc
	check func(error) bool
} {
	bomb := func() []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 16 { // 16 MiB of zeros in ~16 KiB
			zw.Write(zeros)
		}
		zw.Close()
		return buf.Bytes()
	}()
	isResponse := func(target error) func(error) bool {
		return func(err error) bool {
			var re *ResponseError
			return errors.As(err, &re) && (target == nil || errors.Is(err, target))
		}
	}
	return map[string]struct {
		h     http.HandlerFunc
		check func(error) bool
	}{
		"body over the cap": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("d5:peers2000000:"))
			w.Write(make([]byte, 2000000))
			w.Write([]byte("e"))
		}, isResponse(ErrResponseTooLarge)},
		"gzip bomb": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}, isResponse(ErrResponseTooLarge)},
		"HTML": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
		}, isResponse(errLooksHTML)},
		"truncated bencode": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("d8:intervali1800e5:peers12:abc"))
		}, isResponse(errNotBencode)},
		"compact peers of a wrong length": {reply(t, map[string]any{"interval": 60, "peers": "12345"}),
			isResponse(nil)},
		"compact peers6 of a wrong length": {reply(t, map[string]any{"interval": 60, "peers6": "1234567"}),
			isResponse(nil)},
		"peers of a wrong type": {reply(t, map[string]any{"interval": 60, "peers": 5}), isResponse(nil)},
		"HTTP 500 with text": {func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, isResponse(nil)},
		"connection reset": {func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, func(err error) bool { return err != nil }},
	}
}

func TestHTTPHostileReplies(t *testing.T) {
	for name, tc := range hostileReplies(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := serve(t, tc.h)
			_, err := (&Client{}).Announce(context.Background(), u, testRequest())
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestHTTPAbsurdIntervals(t *testing.T) {
	for _, iv := range []int64{-5, 0, 1 << 62} {
		u := serve(t, reply(t, map[string]any{"interval": iv, "min interval": iv, "peers": ""}))
		resp, err := (&Client{}).Announce(context.Background(), u, testRequest())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Interval < 0 || resp.Interval > maxRawInterval || resp.MinInterval < 0 || resp.MinInterval > maxRawInterval {
			t.Errorf("interval %d: got %v / %v", iv, resp.Interval, resp.MinInterval)
		}
		a := NewAnnouncer(AnnouncerConfig{})
		if got, lo := a.intervals(resp); got < DefaultMinInterval || got > DefaultMaxInterval || lo > got {
			t.Errorf("interval %d clamped to %v (lo %v)", iv, got, lo)
		}
	}
}

func TestHTTPSlowDrip(t *testing.T) {
	release := make(chan struct{})
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("d8:interval"))
		w.(http.Flusher).Flush()
		for {
			select {
			case <-release:
				return
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				w.Write([]byte("1"))
				w.(http.Flusher).Flush()
			}
		}
	})
	defer close(release)
	c := &Client{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}}
	_, err := c.Announce(context.Background(), u, testRequest())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestHTTPRedirects(t *testing.T) {
	final := serve(t, reply(t, map[string]any{"interval": 60, "peers": ""}))
	hop := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final+"?"+r.URL.RawQuery, http.StatusFound)
	})
	// Loopback to loopback: allowed.
	if _, err := (&Client{}).Announce(context.Background(), hop, testRequest()); err != nil {
		t.Fatalf("private to private redirect: %v", err)
	}

	// A public tracker (a name that resolves to a documentation address,
	// dialled to the local server) redirecting to loopback: refused.
	hopURL, _ := url.Parse(hop)
	publicURL := "http://tracker.example:" + hopURL.Port() + "/announce"
	dialer := &net.Dialer{}
	c := &Client{
		HTTPClient: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
			},
		}},
		resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("198.51.100.7")}, nil
		},
	}
	_, err := c.Announce(context.Background(), publicURL, testRequest())
	if !errors.Is(err, ErrRedirectRefused) {
		t.Fatalf("public to loopback redirect: err = %v", err)
	}

	// A loop: the count limit ends it.
	var loop string
	loop = serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop, http.StatusFound)
	})
	_, err = (&Client{MaxRedirects: 3}).Announce(context.Background(), loop, testRequest())
	if !errors.Is(err, ErrRedirectRefused) {
		t.Fatalf("redirect loop: err = %v", err)
	}
}

func TestHTTPScrape(t *testing.T) {
	other := [20]byte{9}
	var gotHashes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/x/scrape.php" {
			t.Errorf("scrape path %q", r.URL.Path)
		}
		q, _ := url.ParseQuery(r.URL.RawQuery)
		gotHashes = q["info_hash"]
		w.Write(mustBencode(t, map[string]any{"files": map[string]any{
			string(testHash[:]): map[string]any{"complete": 5, "downloaded": 50, "incomplete": 10, "name": "n"},
			"short":             map[string]any{"complete": 1},
		}}))
	}))
	defer srv.Close()
	res, err := (&Client{}).Scrape(context.Background(), srv.URL+"/x/announce.php", testHash, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotHashes) != 2 || gotHashes[0] != string(testHash[:]) || gotHashes[1] != string(other[:]) {
		t.Errorf("hashes sent: %q", gotHashes)
	}
	if len(res) != 1 || res[testHash] != (ScrapeResult{Complete: 5, Downloaded: 50, Incomplete: 10, Name: "n"}) {
		t.Errorf("scrape = %+v", res)
	}
	if _, err := (&Client{}).Scrape(context.Background(), srv.URL+"/x/tracker", testHash); !errors.Is(err, ErrScrapeUnsupported) {
		t.Errorf("scrape of a URL without announce: %v", err)
	}
}

func TestScrapeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://t.example/announce":           "http://t.example/scrape",
		"http://t.example/x/announce":         "http://t.example/x/scrape",
		"http://t.example/announce.php?k=1":   "http://t.example/scrape.php?k=1",
		"http://t.example/announce?x2%0644":   "http://t.example/scrape?x2%0644",
		"http://t.example/a":                  "",
		"http://t.example/announce/x":         "",
		"http://t.example/x%064announce":      "",
		"http://t.example/announce_something": "http://t.example/scrape_something",
	} {
		u, _ := url.Parse(in)
		su, ok := scrapeURL(u)
		got := ""
		if ok {
			got = su.String()
		}
		if got != want {
			t.Errorf("scrapeURL(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(reply(t, map[string]any{"interval": 60, "peers": string([]byte{127, 0, 0, 1, 0, 80})}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	c := &Client{HTTPClient: srv.Client()}
	resp, err := c.Announce(context.Background(), srv.URL+"/announce", testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 {
		t.Errorf("peers %v", resp.Peers)
	}
	// Without the test CA the certificate is refused.
	if _, err := (&Client{}).Announce(context.Background(), srv.URL+"/announce", testRequest()); err == nil {
		t.Error("an unknown certificate was accepted")
	}
}

func TestHTTPPeerCap(t *testing.T) {
	u := serve(t, reply(t, map[string]any{"interval": 60, "peers": strings.Repeat("\x0a\x00\x00\x01\x1a\xe1", 100000)}))
	resp, err := (&Client{}).Announce(context.Background(), u, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != MaxReplyPeers {
		t.Errorf("%d peers, want the cap %d", len(resp.Peers), MaxReplyPeers)
	}
}
