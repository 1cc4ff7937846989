package transmissionrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/daemon"
	"github.com/bt-go/bt/metainfo"
)

// listFields are the fields transmission-remote 3.00 asks for with -l.
var listFields = []string{"error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name",
	"peersGettingFromUs", "peersSendingToUs", "rateDownload", "rateUpload", "sizeWhenDone", "status", "uploadRatio"}

// BenchmarkDaemon1000: 1,000 small seeding torrents in one daemon. It
// reports the start-up time from the state directory (startup-ms), the
// process's resident memory afterwards (rss-MiB) and, per operation, a
// torrent-get of all of them with transmission-remote -l's fields.
//
//	go test -run NONE -bench Daemon1000 -benchtime 20x ./transmissionrpc
func BenchmarkDaemon1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	data := filepath.Join(dir, "dl")
	os.MkdirAll(data, 0o755)
	cfg := daemon.Config{Engine: bt.Config{ListenAddr: "127.0.0.1:0", DataDir: data, StateDir: filepath.Join(dir, "state"),
		NoTrackers: true, ResumeInterval: time.Hour}}
	d, err := daemon.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("t%04d.bin", i)
		src := filepath.Join(data, name)
		os.WriteFile(src, []byte(strings.Repeat(name, 4096)), 0o644) // 32 KiB
		mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := mi.Marshal()
		if _, err := d.AddMetainfo(raw, daemon.AddOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Wait until every torrent checked its data and seeds, then restart.
	deadline := time.Now().Add(5 * time.Minute)
	for _, e := range d.Torrents() {
		for !e.Engine().Complete() {
			if time.Now().After(deadline) {
				b.Fatal("torrents did not finish their checks")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	d.Close()

	start := time.Now()
	d, err = daemon.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, e := range d.Torrents() {
		for !e.Engine().Complete() {
			time.Sleep(time.Millisecond)
		}
	}
	startup := time.Since(start)
	if len(d.Torrents()) != n {
		b.Fatalf("%d torrents after the restart", len(d.Torrents()))
	}
	h := NewHandler(d, Options{})
	body, _ := json.Marshal(map[string]any{"method": "torrent-get", "arguments": map[string]any{"fields": listFields}})
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/transmission/rpc", strings.NewReader(string(body)))
		req.RemoteAddr, req.Host = "127.0.0.1:1", "127.0.0.1:9091"
		req.Header.Set(sessionHeader, h.SessionID())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"result":"success"`) {
			b.Fatalf("torrent-get: %d %.200s", w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(startup.Milliseconds()), "startup-ms")
	b.ReportMetric(rssMiB(), "rss-MiB")
}

// rssMiB reads the process's resident set size (Linux).
func rssMiB() float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(s), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
