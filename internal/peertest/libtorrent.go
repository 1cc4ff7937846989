package peertest

import (
	"bufio"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed lt_driver.py
var driverScript []byte

// driverPath writes the driver script into a test's temporary directory.
func driverPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lt_driver.py")
	if err := os.WriteFile(p, driverScript, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Libtorrent is a libtorrent session running in a child Python process.
// Its methods fail the test on error. It is safe for concurrent use.
type Libtorrent struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	port  int
	log   *os.File

	mu      sync.Mutex
	nextID  int
	pending map[int]chan response
	alerts  []Alert
	changed chan struct{} // closed and replaced when alerts grow or the process ends
	exited  bool
	readErr error
}

type response struct {
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Trace  string          `json:"trace"`
}

// Alert is one libtorrent alert as the driver reports it.
type Alert struct {
	Type       string `json:"type"` // e.g. "torrent_finished_alert"
	Message    string `json:"message"`
	InfoHash   string `json:"info_hash"`   // v1 info hash, hex, for torrent alerts
	Peer       string `json:"peer"`        // "ip:port", for peer alerts
	PieceIndex *int   `json:"piece_index"` // for piece alerts such as hash_failed_alert
	Error      string `json:"error"`
}

// StartLibtorrent starts a libtorrent session listening on 127.0.0.1 with an
// ephemeral port. DHT, local discovery, UPnP and NAT-PMP are off and several
// connections per IP are allowed; settings override any of these (keys are
// libtorrent setting names). The session ends with the test.
func StartLibtorrent(t testing.TB, settings map[string]any) *Libtorrent {
	t.Helper()
	RequireLibtorrent(t)
	if settings == nil {
		settings = map[string]any{}
	}
	js, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.CreateTemp(t.TempDir(), "libtorrent-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(PythonPath, "-u", driverPath(t), string(js))
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("peertest: start libtorrent: %v", err)
	}
	l := &Libtorrent{t: t, cmd: cmd, stdin: stdin, log: logf,
		pending: map[int]chan response{}, changed: make(chan struct{})}
	ready := make(chan int, 1)
	go l.read(stdout, ready)
	t.Cleanup(l.close)
	select {
	case port := <-ready:
		if port <= 0 {
			t.Fatalf("peertest: libtorrent did not start: %v\n%s", l.readErr, l.Log())
		}
		l.port = port
	case <-time.After(30 * time.Second):
		t.Fatalf("peertest: libtorrent did not start in 30s\n%s", l.Log())
	}
	return l
}

func (l *Libtorrent) read(r io.Reader, ready chan<- int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	sentReady := false
	for sc.Scan() {
		var msg struct {
			Ready bool   `json:"ready"`
			Port  int    `json:"port"`
			ID    *int   `json:"id"`
			Alert *Alert `json:"alert"`
			response
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			continue
		}
		switch {
		case msg.Ready:
			ready <- msg.Port
			sentReady = true
		case msg.Alert != nil:
			l.mu.Lock()
			l.alerts = append(l.alerts, *msg.Alert)
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		case msg.ID != nil:
			l.mu.Lock()
			ch := l.pending[*msg.ID]
			delete(l.pending, *msg.ID)
			l.mu.Unlock()
			if ch != nil {
				ch <- msg.response
			}
		}
	}
	l.mu.Lock()
	l.exited = true
	l.readErr = sc.Err()
	for id, ch := range l.pending {
		ch <- response{Error: "libtorrent driver exited"}
		delete(l.pending, id)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	if !sentReady {
		ready <- 0
	}
}

func (l *Libtorrent) close() {
	l.stdin.Close()
	done := make(chan struct{})
	go func() { l.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		l.cmd.Process.Kill()
		<-done
	}
	if l.t.Failed() {
		l.t.Logf("libtorrent driver log:\n%s", l.Log())
	}
	l.log.Close()
}

// Log returns what the driver wrote to stderr so far.
func (l *Libtorrent) Log() string {
	b, _ := os.ReadFile(l.log.Name())
	return string(b)
}

// Port returns the port the session listens on (TCP, and UDP for its DHT).
func (l *Libtorrent) Port() int { return l.port }

// Addr returns the session's listening address, "127.0.0.1:port".
func (l *Libtorrent) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.port)) }

// Call invokes a driver method and decodes its result into out (if non-nil).
// It returns the driver's error instead of failing the test.
func (l *Libtorrent) Call(method string, args map[string]any, out any) error {
	l.mu.Lock()
	if l.exited {
		l.mu.Unlock()
		return fmt.Errorf("libtorrent driver exited")
	}
	l.nextID++
	id := l.nextID
	ch := make(chan response, 1)
	l.pending[id] = ch
	l.mu.Unlock()
	req, err := json.Marshal(map[string]any{"id": id, "method": method, "args": args})
	if err != nil {
		return err
	}
	l.mu.Lock()
	_, err = l.stdin.Write(append(req, '\n'))
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("libtorrent driver: %w", err)
	}
	select {
	case r := <-ch:
		if r.Error != "" {
			return fmt.Errorf("libtorrent %s: %s\n%s", method, r.Error, r.Trace)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("libtorrent %s: no answer in 60s", method)
	}
}

func (l *Libtorrent) must(t testing.TB, method string, args map[string]any, out any) {
	t.Helper()
	if err := l.Call(method, args, out); err != nil {
		t.Fatal(err)
	}
}

// Exec runs Python code in the driver with ses (the session), handles (info
// hash hex → torrent_handle), lt and args in scope, and returns the JSON
// value the code assigns to result. It is the escape hatch for anything the
// typed methods do not cover.
func (l *Libtorrent) Exec(t testing.TB, code string, args map[string]any) json.RawMessage {
	t.Helper()
	var out json.RawMessage
	l.must(t, "exec", map[string]any{"code": code, "args": args}, &out)
	return out
}

// AddTorrent describes a torrent to add to a libtorrent session.
type AddTorrent struct {
	TorrentFile   string // path of a .torrent file; or
	Magnet        string // a magnet link
	SavePath      string // where the data is or goes
	SeedMode      bool   // trust the data without checking it
	UploadLimit   int    // bytes per second, 0 for none
	DownloadLimit int    // bytes per second, 0 for none
}

// AddTorrent adds a torrent, started, and returns its v1 info hash in hex.
func (l *Libtorrent) AddTorrent(t testing.TB, a AddTorrent) string {
	t.Helper()
	args := map[string]any{"torrent_file": a.TorrentFile, "magnet": a.Magnet, "save_path": a.SavePath,
		"seed_mode": a.SeedMode, "upload_limit": a.UploadLimit, "download_limit": a.DownloadLimit}
	var r struct {
		InfoHash string `json:"info_hash"`
	}
	l.must(t, "add_torrent", args, &r)
	return r.InfoHash
}

// ConnectPeer asks the session to connect to addr ("host:port") for the
// torrent with the given info hash.
func (l *Libtorrent) ConnectPeer(t testing.TB, infoHash, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	l.must(t, "connect_peer", map[string]any{"info_hash": infoHash, "ip": host, "port": p}, nil)
}

// AddDHTNode adds a DHT node ("host:port") to the session's routing table.
func (l *Libtorrent) AddDHTNode(t testing.TB, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	l.must(t, "add_dht_node", map[string]any{"ip": host, "port": p}, nil)
}

// Status is a torrent's status as libtorrent reports it.
type Status struct {
	Progress             float64 `json:"progress"`
	State                string  `json:"state"`
	IsSeeding            bool    `json:"is_seeding"`
	IsFinished           bool    `json:"is_finished"`
	HasMetadata          bool    `json:"has_metadata"`
	NumPeers             int     `json:"num_peers"`
	NumSeeds             int     `json:"num_seeds"`
	TotalPayloadDownload int64   `json:"total_payload_download"`
	TotalPayloadUpload   int64   `json:"total_payload_upload"`
	TotalDone            int64   `json:"total_done"`
	TotalWanted          int64   `json:"total_wanted"`
	DownloadRate         int     `json:"download_rate"`
	UploadRate           int     `json:"upload_rate"`
	Error                string  `json:"error"`
}

// Status returns the torrent's current status.
func (l *Libtorrent) Status(t testing.TB, infoHash string) Status {
	t.Helper()
	var s Status
	l.must(t, "status", map[string]any{"info_hash": infoHash}, &s)
	return s
}

// WaitStatus polls the torrent's status until ok returns true, and fails the
// test if that does not happen within timeout.
func (l *Libtorrent) WaitStatus(t testing.TB, infoHash string, timeout time.Duration, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := l.Status(t, infoHash)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("libtorrent: torrent %s did not reach the wanted state in %v; last status %+v", infoHash, timeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Alerts returns every alert seen so far.
func (l *Libtorrent) Alerts() []Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Alert(nil), l.alerts...)
}

// WaitAlertFunc waits for the first alert (counting those already seen) for
// which match returns true, and fails the test after timeout.
func (l *Libtorrent) WaitAlertFunc(t testing.TB, timeout time.Duration, match func(Alert) bool) Alert {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		l.mu.Lock()
		fresh := l.alerts[seen:]
		seen = len(l.alerts)
		changed, exited := l.changed, l.exited
		l.mu.Unlock()
		for _, a := range fresh {
			if match(a) {
				return a
			}
		}
		if exited {
			t.Fatalf("libtorrent driver exited while waiting for an alert\n%s", l.Log())
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("libtorrent: no matching alert in %v", timeout)
		}
	}
}

// WaitAlert waits for the first alert of the given type, such as
// "torrent_finished_alert" or "hash_failed_alert".
func (l *Libtorrent) WaitAlert(t testing.TB, typeName string, timeout time.Duration) Alert {
	t.Helper()
	return l.WaitAlertFunc(t, timeout, func(a Alert) bool { return a.Type == typeName })
}

// PeerInfo is one connected peer as libtorrent sees it.
type PeerInfo struct {
	IP            string  `json:"ip"`
	Port          int     `json:"port"`
	Client        string  `json:"client"`
	Progress      float64 `json:"progress"`
	Flags         int     `json:"flags"`
	Source        int     `json:"source"`
	DownSpeed     int     `json:"down_speed"`
	UpSpeed       int     `json:"up_speed"`
	TotalDownload int64   `json:"total_download"`
	TotalUpload   int64   `json:"total_upload"`
}

// Peers returns the torrent's connected peers.
func (l *Libtorrent) Peers(t testing.TB, infoHash string) []PeerInfo {
	t.Helper()
	var ps []PeerInfo
	l.must(t, "peers", map[string]any{"info_hash": infoHash}, &ps)
	return ps
}

// TorrentFile returns the .torrent libtorrent holds for the torrent (made
// from its metadata), or nil if it has no metadata yet.
func (l *Libtorrent) TorrentFile(t testing.TB, infoHash string) []byte {
	t.Helper()
	var r struct {
		Torrent string `json:"torrent"`
	}
	l.must(t, "torrent_file", map[string]any{"info_hash": infoHash}, &r)
	b, err := base64.StdEncoding.DecodeString(r.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

// InfoBytes returns the raw info dictionary libtorrent holds for the torrent,
// or nil if it has no metadata yet.
func (l *Libtorrent) InfoBytes(t testing.TB, infoHash string) []byte {
	t.Helper()
	var r struct {
		Metadata string `json:"metadata"`
	}
	l.must(t, "torrent_file", map[string]any{"info_hash": infoHash}, &r)
	b, err := base64.StdEncoding.DecodeString(r.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateOptions says how libtorrent makes a torrent.
type CreateOptions struct {
	PieceSize int      // 0 lets libtorrent choose
	V1Only    bool     // a v1 torrent; otherwise libtorrent 2.0's default v1+v2 hybrid
	Trackers  []string // one tier each
	WebSeeds  []string
	Private   bool
}

// CreateTorrent makes a torrent of path (a file or directory) with
// libtorrent's create_torrent, and returns it with its v1 info hash in hex.
func CreateTorrent(t testing.TB, path string, o CreateOptions) (torrent []byte, infoHash string) {
	t.Helper()
	RequireLibtorrent(t)
	args, _ := json.Marshal(map[string]any{"path": path, "piece_size": o.PieceSize, "v1_only": o.V1Only,
		"trackers": o.Trackers, "web_seeds": o.WebSeeds, "private": o.Private})
	out, err := exec.Command(PythonPath, driverPath(t), "--create", string(args)).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("peertest: libtorrent create_torrent: %v\n%s", err, msg)
	}
	var r struct {
		Torrent  string `json:"torrent"`
		InfoHash string `json:"info_hash"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(out))), &r); err != nil {
		t.Fatalf("peertest: create_torrent output: %v", err)
	}
	b, err := base64.StdEncoding.DecodeString(r.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	return b, r.InfoHash
}
