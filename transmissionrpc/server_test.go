package transmissionrpc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/daemon"
	"github.com/bt-go/bt/metainfo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestDaemon runs a daemon on 127.0.0.1 with no trackers or DHT.
func newTestDaemon(t *testing.T) *daemon.Daemon {
	t.Helper()
	dir := t.TempDir()
	d, err := daemon.New(context.Background(), daemon.Config{Engine: bt.Config{
		ListenAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "dl"), StateDir: filepath.Join(dir, "state"), NoTrackers: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// testTorrent makes a small two-file torrent and returns its bytes.
func testTorrent(t *testing.T) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), "pair")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a"), bytes.Repeat([]byte("a"), 40_000), 0o644)
	os.WriteFile(filepath.Join(src, "b"), bytes.Repeat([]byte("b"), 10_000), 0o644)
	mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type client struct {
	t    *testing.T
	url  string
	sid  string
	user [2]string
	host string
}

// post sends one request, doing the 409 exchange, and returns the status
// and body.
func (c *client) post(body string) (int, []byte) {
	c.t.Helper()
	for range 2 {
		req, _ := http.NewRequest("POST", c.url+"/transmission/rpc", strings.NewReader(body))
		req.Header.Set(sessionHeader, c.sid)
		if c.user[0] != "" {
			req.SetBasicAuth(c.user[0], c.user[1])
		}
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict && c.sid != resp.Header.Get(sessionHeader) {
			c.sid = resp.Header.Get(sessionHeader)
			continue
		}
		return resp.StatusCode, b
	}
	return http.StatusConflict, nil
}

type reply struct {
	Result    string         `json:"result"`
	Arguments map[string]any `json:"arguments"`
	Tag       *int           `json:"tag"`
}

func (c *client) call(method string, args any) reply {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	code, body := c.post(string(b))
	if code != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d %s", method, code, body)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		c.t.Fatalf("%s: %v: %s", method, err, body)
	}
	return r
}

func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSecurity: the IP allow-list (403), Basic auth (401 with a
// challenge, lock-out), the Host allow-list (421) and the session id (409).
func TestSecurity(t *testing.T) {
	d := newTestDaemon(t)
	h := NewHandler(d, Options{})
	url := serve(t, h)

	// 409 carries the session id; a request with it passes.
	resp, err := http.Post(url+"/transmission/rpc", "application/json", strings.NewReader(`{"method":"session-get"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get(sessionHeader) != h.SessionID() {
		t.Fatalf("without a session id: %d %q", resp.StatusCode, resp.Header.Get(sessionHeader))
	}
	c := &client{t: t, url: url}
	if r := c.call("session-get", nil); r.Result != "success" || r.Arguments["rpc-version"] != float64(RPCVersion) {
		t.Fatalf("session-get: %+v", r)
	}
	// The /transmission/rpc/ prefix transmission-remote 3.00 uses.
	req, _ := http.NewRequest("POST", url+"/transmission/rpc/", strings.NewReader(`{"method":"session-stats"}`))
	req.Header.Set(sessionHeader, h.SessionID())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/transmission/rpc/: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Host names: IP literals and localhost pass, others get 421.
	for host, want := range map[string]int{"evil.example:9091": 421, "localhost:9091": 200, "[::1]:9091": 200, "127.0.0.1": 200} {
		c := &client{t: t, url: url, sid: h.SessionID(), host: host}
		if code, body := c.post(`{"method":"session-stats"}`); code != want {
			t.Errorf("Host %s: %d %s, want %d", host, code, body, want)
		}
	}
	hosts := NewHandler(d, Options{AllowedHosts: []string{"*.example"}})
	c = &client{t: t, url: serve(t, hosts), host: "bt.example"}
	if code, _ := c.post(`{"method":"session-stats"}`); code != 200 {
		t.Errorf("allowed host: %d", code)
	}

	// An address outside the allow-list gets 403.
	other := NewHandler(d, Options{AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	c = &client{t: t, url: serve(t, other)}
	if code, _ := c.post(`{"method":"session-stats"}`); code != http.StatusForbidden {
		t.Errorf("refused address: %d", code)
	}

	// Basic auth: 401 with a challenge; the right password passes; too
	// many failures lock everyone out.
	auth := NewHandler(d, Options{User: "alice", Password: "secret"})
	aurl := serve(t, auth)
	resp, err = http.Post(aurl+"/transmission/rpc", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	good := &client{t: t, url: aurl, user: [2]string{"alice", "secret"}, host: "anything.example"}
	if r := good.call("session-stats", nil); r.Result != "success" {
		t.Fatalf("with the password: %+v", r)
	}
	bad := &client{t: t, url: aurl, user: [2]string{"alice", "wrong"}}
	for range MaxLoginFailures {
		if code, _ := bad.post(`{"method":"session-stats"}`); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if code, _ := good.post(`{"method":"session-stats"}`); code != http.StatusForbidden {
		t.Fatalf("after %d failures: %d, want 403", MaxLoginFailures, code)
	}
}

// TestHostileRequests: each bad request gets a clear error in "result"
// (HTTP 200) and changes nothing.
func TestHostileRequests(t *testing.T) {
	d := newTestDaemon(t)
	c := &client{t: t, url: serve(t, NewHandler(d, Options{}))}
	r := c.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(testTorrent(t)), "paused": true})
	if r.Result != "success" || r.Arguments["torrent-added"] == nil {
		t.Fatalf("torrent-add: %+v", r)
	}
	for name, body := range map[string]string{
		"too large":        `{"method":"session-get","arguments":{"x":"` + strings.Repeat("a", MaxBodySize) + `"}}`,
		"too deep":         `{"method":"session-get","arguments":{"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}}`,
		"float for int":    `{"method":"torrent-set","arguments":{"ids":[1],"downloadLimit":1.5,"downloadLimited":true}}`,
		"exponent":         `{"method":"torrent-set","arguments":{"ids":[1],"downloadLimit":1e3,"downloadLimited":true}}`,
		"unknown method":   `{"method":"torrent-explode"}`,
		"unknown argument": `{"method":"torrent-set","arguments":{"ids":[1],"downloadLimited":true,"turbo":1}}`,
		"negative limit":   `{"method":"torrent-set","arguments":{"ids":[1],"downloadLimit":-5,"downloadLimited":true}}`,
		"not json":         `{"method":`,
		"bad tag":          `{"method":"session-get","tag":"x"}`,
		"bad ids":          `{"method":"torrent-stop","arguments":{"ids":[{"a":1}]}}`,
		"session-set":      `{"method":"session-set","arguments":{"speed-limit-down":2.5}}`,
		"bad metainfo":     `{"method":"torrent-add","arguments":{"metainfo":"bm90IGEgdG9ycmVudA=="}}`,
		"relative dir":     `{"method":"torrent-add","arguments":{"filename":"x.torrent","download-dir":"rel"}}`,
	} {
		code, body := c.post(body)
		var r reply
		if code != 200 || json.Unmarshal(body, &r) != nil || r.Result == "success" || r.Result == "" {
			t.Errorf("%s: HTTP %d %.200s", name, code, body)
		}
	}
	get := c.call("torrent-get", map[string]any{"ids": []int{1}, "fields": []string{"downloadLimited", "status"}})
	tor := get.Arguments["torrents"].([]any)[0].(map[string]any)
	if tor["downloadLimited"] != false || tor["status"] != 0.0 {
		t.Fatalf("a refused request changed the torrent: %v", tor)
	}
	if s := c.call("session-get", nil); s.Arguments["speed-limit-down-enabled"] != false || s.Arguments["speed-limit-down"] != 100.0 {
		t.Fatalf("a refused request changed the session: %v", s.Arguments)
	}
}

// TestIntegersAndTag: counters are JSON integers (no decimal point or
// exponent), the tag comes back, and the table format works.
func TestIntegersAndTag(t *testing.T) {
	d := newTestDaemon(t)
	c := &client{t: t, url: serve(t, NewHandler(d, Options{}))}
	c.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(testTorrent(t)), "paused": true})
	var names []string
	for n := range fields {
		names = append(names, n)
	}
	req, _ := json.Marshal(map[string]any{"method": "torrent-get", "tag": 1234567, "arguments": map[string]any{"fields": names}})
	_, body := c.post(string(req))
	for _, k := range []string{"totalSize", "sizeWhenDone", "leftUntilDone", "addedDate", "id", "status", "eta", "pieceSize", "rateDownload", "haveValid", "uploadedEver"} {
		re := regexp.MustCompile(`"` + k + `":(-?[0-9]+)[,}]`)
		if !re.Match(body) {
			t.Errorf("%s is not a JSON integer in %.300s", k, body)
		}
	}
	if !bytes.Contains(body, []byte(`"tag":1234567`)) {
		t.Errorf("tag not echoed: %.200s", body)
	}
	var r reply
	json.Unmarshal(body, &r)
	tor := r.Arguments["torrents"].([]any)[0].(map[string]any)
	if tor["eta"] != -1.0 || tor["totalSize"] != 50_000.0 || tor["leftUntilDone"] != 50_000.0 {
		t.Errorf("a stopped, empty torrent: eta %v, totalSize %v, left %v", tor["eta"], tor["totalSize"], tor["leftUntilDone"])
	}
	tab := c.call("torrent-get", map[string]any{"fields": []string{"id", "name"}, "format": "table"})
	rows := tab.Arguments["torrents"].([]any)
	if len(rows) != 2 || rows[0].([]any)[1] != "name" || rows[1].([]any)[1] != "pair" {
		t.Errorf("table: %v", rows)
	}
}

// TestDuplicateAndRaces: a second add of a torrent answers
// torrent-duplicate; concurrent starts, stops and removes end with the
// torrent gone, once.
func TestDuplicateAndRaces(t *testing.T) {
	d := newTestDaemon(t)
	c := &client{t: t, url: serve(t, NewHandler(d, Options{}))}
	meta := base64.StdEncoding.EncodeToString(testTorrent(t))
	first := c.call("torrent-add", map[string]any{"metainfo": meta})
	second := c.call("torrent-add", map[string]any{"metainfo": meta})
	if first.Arguments["torrent-added"] == nil || second.Arguments["torrent-duplicate"] == nil {
		t.Fatalf("adds: %+v / %+v", first, second)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			cc := &client{t: t, url: c.url, sid: c.sid}
			m := []string{"torrent-start", "torrent-stop", "torrent-remove", "torrent-start-now"}[i%4]
			if r := cc.call(m, map[string]any{"ids": []int{1}}); r.Result != "success" {
				t.Errorf("%s: %s", m, r.Result)
			}
		})
	}
	wg.Wait()
	if l := c.call("torrent-get", map[string]any{"fields": []string{"id"}}); len(l.Arguments["torrents"].([]any)) != 0 {
		t.Fatalf("after the removes: %v", l.Arguments)
	}
	if len(d.Client().Torrents()) != 0 {
		t.Fatal("the engine still runs the torrent")
	}
	ra := c.call("torrent-get", map[string]any{"ids": "recently-active", "fields": []string{"id"}})
	if removed, _ := ra.Arguments["removed"].([]any); len(removed) != 1 || removed[0] != 1.0 {
		t.Fatalf("recently-active: %v", ra.Arguments)
	}
}
