//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/resume"
)

// runningDaemon is a bt daemon process started by a test.
type runningDaemon struct {
	cmd      *exec.Cmd
	rpc      string // host:port
	peerPort int
	stderr   *syncBuffer
	exited   chan error
}

// startDaemon runs bt daemon with args (besides --rpc, --port, --bind and
// --no-dht) and waits for it to say where it listens.
func startDaemon(t *testing.T, stateDir, dir string, args ...string) *runningDaemon {
	t.Helper()
	begin := time.Now()
	bin := buildBT(t)
	t.Logf("built: %v", time.Since(begin))
	rpcPort := peertest.FreePort(t)
	all := append([]string{"daemon", "--rpc", fmt.Sprintf("127.0.0.1:%d", rpcPort), "--bind", "127.0.0.1", "--port", "0",
		"--no-dht", "--dir", dir, "--state-dir", stateDir, "--log-level", "debug"}, args...)
	cmd := exec.Command(bin, all...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &runningDaemon{cmd: cmd, rpc: fmt.Sprintf("127.0.0.1:%d", rpcPort), stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`peers on port (\d+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				p, _ := strconv.Atoi(m[1])
				ready <- p
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { d.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case d.peerPort = <-ready:
	case err := <-d.exited:
		t.Fatalf("bt daemon ended at start: %v\n%s", err, d.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("bt daemon did not start:\n%s", d.stderr)
	}
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *runningDaemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("bt daemon after SIGTERM: %v\n%s", err, d.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("bt daemon did not stop after SIGTERM")
	}
}

// remote runs transmission-remote against d; it fails the test if the
// remote fails, unless wantErr.
func remote(t *testing.T, d *runningDaemon, args ...string) string {
	t.Helper()
	out, err := exec.Command("transmission-remote", append([]string{d.rpc}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("transmission-remote %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// rpc makes one RPC call the way any remote does (409 exchange included)
// and returns the arguments of a successful answer.
func rpc(t *testing.T, d *runningDaemon, auth [2]string, method string, args any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args, "tag": 1})
	sid := ""
	for range 2 {
		req, _ := http.NewRequest("POST", "http://"+d.rpc+"/transmission/rpc", bytes.NewReader(body))
		req.Header.Set("X-Transmission-Session-Id", sid)
		if auth[0] != "" {
			req.SetBasicAuth(auth[0], auth[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			sid = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		var r struct {
			Result    string         `json:"result"`
			Arguments map[string]any `json:"arguments"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.Result != "success" {
			t.Fatalf("%s: %d %s (%v)", method, resp.StatusCode, b, err)
		}
		return r.Arguments
	}
	t.Fatalf("%s: 409 twice", method)
	return nil
}

// torrentState reads fields of torrent id from the daemon.
func torrentState(t *testing.T, d *runningDaemon, auth [2]string, id int, fields ...string) map[string]any {
	t.Helper()
	r := rpc(t, d, auth, "torrent-get", map[string]any{"ids": []int{id}, "fields": fields})
	list, _ := r["torrents"].([]any)
	if len(list) != 1 {
		t.Fatalf("torrent %d: %v", id, r)
	}
	return list[0].(map[string]any)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestDaemonTransmissionRemote: Debian's transmission-remote drives bt
// daemon through a torrent's life, with data from a libtorrent seed; each
// step is checked against the daemon's state and the files on disk.
func TestDaemonTransmissionRemote(t *testing.T) {
	peertest.RequireLibtorrent(t)
	peertest.RequireCommand(t, "transmission-remote")
	begin := time.Now()
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	tree := filepath.Join(seedDir, "tree")
	peertest.WriteRandomFile(t, filepath.Join(tree, "a.bin"), 300_000)
	peertest.WriteRandomFile(t, filepath.Join(tree, "b.bin"), 70_000)
	peertest.WriteRandomFile(t, filepath.Join(tree, "sub", "c.bin"), 500_000)
	single := filepath.Join(seedDir, "single.bin")
	peertest.WriteRandomFile(t, single, 400_000)
	treeTorrent, treeHash := peertest.CreateTorrent(t, tree, peertest.CreateOptions{PieceSize: 32 << 10}) // hybrid: pad files
	_, singleHash := peertest.CreateTorrent(t, single, peertest.CreateOptions{PieceSize: 32 << 10, V1Only: true})
	treeFile := filepath.Join(dir, "tree.torrent")
	if err := os.WriteFile(treeFile, treeTorrent, 0o644); err != nil {
		t.Fatal(err)
	}
	singleFile := filepath.Join(dir, "single.torrent")
	b, _ := peertest.CreateTorrent(t, single, peertest.CreateOptions{PieceSize: 32 << 10, V1Only: true})
	os.WriteFile(singleFile, b, 0o644)

	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: treeFile, SavePath: seedDir, SeedMode: true})
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: singleFile, SavePath: seedDir, SeedMode: true})

	state, dl := filepath.Join(dir, "state"), filepath.Join(dir, "dl")
	t.Logf("set up: %v", time.Since(begin).Round(time.Millisecond))
	d := startDaemon(t, state, dl)
	t.Logf("daemon started: %v", time.Since(begin).Round(time.Millisecond))
	var noAuth [2]string
	peer := fmt.Sprintf("127.0.0.1:%d", d.peerPort)

	// -a FILE, with its second file skipped (-G) before any data arrives.
	// (--start-paused is a session setting in transmission-remote.)
	remote(t, d, "--start-paused")
	if out := remote(t, d, "-a", treeFile); !strings.Contains(out, `"success"`) {
		t.Fatalf("-a: %s", out)
	}
	remote(t, d, "--no-start-paused")
	st := torrentState(t, d, noAuth, 1, "hashString", "status", "files")
	if st["hashString"] != treeHash || st["status"] != 0.0 {
		t.Fatalf("added paused: %v", st)
	}
	if files := st["files"].([]any); len(files) != 3 {
		t.Fatalf("files (pad files must be hidden): %v", files)
	}
	remote(t, d, "-t", "1", "-G", "1")
	if out := remote(t, d, "-t", "1", "-f"); !regexp.MustCompile(`1:\s+0%\s+Normal\s+No`).MatchString(out) {
		t.Fatalf("-f after -G 1:\n%s", out)
	}
	remote(t, d, "-t", "1", "-s")
	lt.ConnectPeer(t, treeHash, peer)
	waitfor.Cond(t, 60*time.Second, "the wanted files", func() bool {
		return torrentState(t, d, noAuth, 1, "leftUntilDone")["leftUntilDone"] == 0.0
	})
	for _, f := range []string{"a.bin", "sub/c.bin"} {
		peertest.SameFiles(t, filepath.Join(tree, f), filepath.Join(dl, "tree", f))
	}
	if fileExists(filepath.Join(dl, "tree", "b.bin")) {
		t.Fatal("the skipped file was created")
	}

	// -a MAGNET.
	magnet := "magnet:?xt=urn:btih:" + singleHash + "&dn=single.bin"
	remote(t, d, "-a", magnet)
	st = torrentState(t, d, noAuth, 2, "hashString")
	if st["hashString"] != singleHash {
		t.Fatalf("magnet: %v", st)
	}
	lt.ConnectPeer(t, singleHash, peer)
	waitfor.Cond(t, 60*time.Second, "the magnet's download", func() bool {
		s := torrentState(t, d, noAuth, 2, "percentDone", "status")
		return s["percentDone"] == 1.0 && s["status"] == 6.0
	})
	peertest.SameFiles(t, single, filepath.Join(dl, "single.bin"))

	// -g: the skipped file is wanted again and arrives.
	remote(t, d, "-t", "1", "-g", "1")
	lt.ConnectPeer(t, treeHash, peer)
	waitfor.Cond(t, 60*time.Second, "the file wanted again", func() bool {
		s := torrentState(t, d, noAuth, 1, "percentDone", "status")
		return s["percentDone"] == 1.0 && s["status"] == 6.0
	})
	peertest.SameFiles(t, tree, filepath.Join(dl, "tree"))

	// -l, -i, -f.
	list := remote(t, d, "-l")
	for _, re := range []string{`(?m)^\s+1\s+100%.*(Seeding|Idle)\s+tree$`, `(?m)^\s+2\s+100%.*(Seeding|Idle)\s+single\.bin$`} {
		if !regexp.MustCompile(re).MatchString(list) {
			t.Fatalf("-l does not match %s:\n%s", re, list)
		}
	}
	info := remote(t, d, "-t", "1", "-i")
	for _, want := range []string{"Hash: " + treeHash, "Percent Done: 100%", "Location: " + dl, "Have: 870.0 kB (870.0 kB verified)"} {
		if !strings.Contains(info, want) {
			t.Fatalf("-i lacks %q:\n%s", want, info)
		}
	}
	if out := remote(t, d, "-t", "1", "-f"); !strings.Contains(out, "tree/sub/c.bin") || !regexp.MustCompile(`1:\s+100%\s+Normal\s+Yes`).MatchString(out) {
		t.Fatalf("-f:\n%s", out)
	}

	// -S / -s.
	remote(t, d, "-t", "2", "-S")
	if s := torrentState(t, d, noAuth, 2, "status")["status"]; s != 0.0 {
		t.Fatalf("after -S: status %v", s)
	}
	remote(t, d, "-t", "2", "-s")
	if s := torrentState(t, d, noAuth, 2, "status")["status"]; s != 6.0 {
		t.Fatalf("after -s: status %v", s)
	}

	// -v finds a byte changed behind the daemon's back.
	f, err := os.OpenFile(filepath.Join(dl, "tree", "a.bin"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	f.ReadAt(one[:], 1000)
	one[0] ^= 0xff
	f.WriteAt(one[:], 1000)
	f.Close()
	remote(t, d, "-t", "1", "-v")
	waitfor.Cond(t, 60*time.Second, "the verify to find the damage", func() bool {
		return torrentState(t, d, noAuth, 1, "percentDone")["percentDone"] != 1.0
	})
	// libtorrent, which took the daemon for a seed, does not dial it
	// again: put the byte back and verify once more.
	f, err = os.OpenFile(filepath.Join(dl, "tree", "a.bin"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0xff
	f.WriteAt(one[:], 1000)
	f.Close()
	remote(t, d, "-t", "1", "-v")
	waitfor.Cond(t, 60*time.Second, "the second verify", func() bool {
		s := torrentState(t, d, noAuth, 1, "percentDone", "status")
		return s["percentDone"] == 1.0 && s["status"] == 6.0
	})
	peertest.SameFiles(t, tree, filepath.Join(dl, "tree"))

	// Limits: -d/-u for the session, -t N -d for one torrent.
	remote(t, d, "-d", "300", "-u", "200")
	si := remote(t, d, "-si")
	if !strings.Contains(si, "Download speed limit: 300 kB/s") || !strings.Contains(si, "Upload speed limit: 200 kB/s") {
		t.Fatalf("-si after -d/-u:\n%s", si)
	}
	remote(t, d, "-t", "1", "-d", "30")
	if info := remote(t, d, "-t", "1", "-i"); !strings.Contains(info, "Download Limit: 30 kB/s") {
		t.Fatalf("-i after -t 1 -d 30:\n%s", info)
	}
	if st := remote(t, d, "-st"); !strings.Contains(st, "Started 1 times") {
		t.Fatalf("-st:\n%s", st)
	}

	// Torrent 2 stopped; a clean restart (SIGTERM) with authentication on
	// brings both back as they were, with their ids and limits.
	remote(t, d, "-t", "2", "-S")
	d.stop(t)
	d = startDaemon(t, state, dl, "--rpc-user", "alice", "--rpc-password", "secret")
	auth := [2]string{"alice", "secret"}
	if out, err := exec.Command("transmission-remote", d.rpc, "-l").CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Fatalf("without credentials: %v\n%s", err, out)
	}
	if out, err := exec.Command("transmission-remote", d.rpc, "-n", "alice:wrong", "-l").CombinedOutput(); err == nil {
		t.Fatalf("with a wrong password: %s", out)
	}
	list = remote(t, d, "-n", "alice:secret", "-l")
	if !regexp.MustCompile(`(?m)^\s+1\s+100%.*\s+tree$`).MatchString(list) || !regexp.MustCompile(`(?m)^\s+2\s+100%.*Stopped\s+single\.bin$`).MatchString(list) {
		entries, _ := os.ReadDir(state)
		for _, e := range entries {
			t.Log(e.Name())
		}
		t.Fatalf("-l after the restart:\n%s\n%s", list, d.stderr)
	}
	waitfor.Cond(t, 30*time.Second, "torrent 1 seeding after the restart", func() bool {
		return torrentState(t, d, auth, 1, "status")["status"] == 6.0
	})
	if s := torrentState(t, d, auth, 1, "downloadLimit", "downloadLimited"); s["downloadLimit"] != 30.0 || s["downloadLimited"] != true {
		t.Fatalf("torrent 1's limit after the restart: %v", s)
	}
	if st := remote(t, d, "-n", "alice:secret", "-st"); !strings.Contains(st, "Started 2 times") {
		t.Fatalf("-st after the restart:\n%s", st)
	}

	// -t HASH -r keeps the data; --remove-and-delete deletes it.
	remote(t, d, "-n", "alice:secret", "-t", singleHash, "-r")
	remote(t, d, "-n", "alice:secret", "-t", "1", "--remove-and-delete")
	if r := rpc(t, d, auth, "torrent-get", map[string]any{"fields": []string{"id"}}); len(r["torrents"].([]any)) != 0 {
		t.Fatalf("torrents left after removing: %v", r)
	}
	peertest.SameFiles(t, single, filepath.Join(dl, "single.bin"))
	if fileExists(filepath.Join(dl, "tree")) {
		t.Fatal("--remove-and-delete left the torrent's data")
	}
	if entries, _ := os.ReadDir(state); len(entries) > 0 {
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".torrent") || strings.HasSuffix(e.Name(), ".resume") {
				t.Fatalf("state directory still holds %s", e.Name())
			}
		}
	}
	d.stop(t)
}

// TestDaemonKill9: bt daemon killed with SIGKILL while three torrents
// download from a (throttled) libtorrent seed comes back with all three,
// which finish from where their records left them: nothing recorded as
// verified is fetched again.
func TestDaemonKill9(t *testing.T) {
	peertest.RequireLibtorrent(t)
	peertest.RequireCommand(t, "transmission-remote")
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	lt := peertest.StartLibtorrent(t, nil)
	const size, plen = 1_500_000, 32 << 10
	var hashes, files []string
	for _, name := range []string{"one", "two", "three"} {
		src := filepath.Join(seedDir, name)
		peertest.WriteRandomFile(t, src, size)
		b, ih := peertest.CreateTorrent(t, src, peertest.CreateOptions{PieceSize: plen, V1Only: true})
		file := filepath.Join(dir, name+".torrent")
		os.WriteFile(file, b, 0o644)
		lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: seedDir, SeedMode: true, UploadLimit: 150_000})
		hashes, files = append(hashes, ih), append(files, file)
	}
	state, dl := filepath.Join(dir, "state"), filepath.Join(dir, "dl")
	d := startDaemon(t, state, dl, "--resume-interval", "500ms")
	var noAuth [2]string
	for i, f := range files {
		remote(t, d, "-a", f)
		lt.ConnectPeer(t, hashes[i], fmt.Sprintf("127.0.0.1:%d", d.peerPort))
	}
	// Mid-download: each torrent has a record with some pieces, none is
	// complete.
	recorded := make([]int64, 3)
	waitfor.Cond(t, 60*time.Second, "records with progress", func() bool {
		for _, ih := range hashes {
			rec, err := resume.ReadFile(filepath.Join(state, ih+".resume"))
			if err != nil || rec.Have.Count() < rec.NumPieces/5 {
				return false
			}
		}
		return true
	})
	d.cmd.Process.Kill()
	<-d.exited
	for i, ih := range hashes {
		rec, err := resume.ReadFile(filepath.Join(state, ih+".resume"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Have.All() {
			t.Fatalf("torrent %d was complete before the kill; slow the seed down", i+1)
		}
		recorded[i] = min(int64(rec.Have.Count())*plen, size)
		t.Logf("torrent %d: %d of %d pieces recorded at the kill", i+1, rec.Have.Count(), rec.NumPieces)
	}

	d = startDaemon(t, state, dl)
	for i := range hashes {
		st := torrentState(t, d, noAuth, i+1, "hashString", "downloadedEver")
		if st["hashString"] != hashes[i] {
			t.Fatalf("torrent %d after the restart: %v", i+1, st)
		}
		lt.ConnectPeer(t, hashes[i], fmt.Sprintf("127.0.0.1:%d", d.peerPort))
	}
	before := make([]int64, 3)
	for i := range hashes {
		before[i] = int64(torrentState(t, d, noAuth, i+1, "downloadedEver")["downloadedEver"].(float64))
	}
	for i := range hashes {
		waitfor.Cond(t, 90*time.Second, fmt.Sprintf("torrent %d to finish", i+1), func() bool {
			return torrentState(t, d, noAuth, i+1, "percentDone")["percentDone"] == 1.0
		})
		after := int64(torrentState(t, d, noAuth, i+1, "downloadedEver")["downloadedEver"].(float64))
		fetched := after - before[i]
		t.Logf("torrent %d: fetched %d bytes after the restart; %d were missing from its record", i+1, fetched, size-recorded[i])
		if fetched > size-recorded[i]+4*plen {
			t.Errorf("torrent %d fetched %d bytes after the restart, but only %d were missing from its record", i+1, fetched, size-recorded[i])
		}
		name := []string{"one", "two", "three"}[i]
		peertest.SameFiles(t, filepath.Join(seedDir, name), filepath.Join(dl, name))
	}
	d.stop(t)
}
