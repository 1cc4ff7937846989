package peertest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Aria2Options says how to start aria2c on one torrent.
type Aria2Options struct {
	TorrentFile string // the .torrent to download or seed
	Dir         string // download directory; put the data here to seed it
	Seed        bool   // seed the data in Dir without checking it, forever
	Port        int    // peer port; 0 picks a free one
}

// Aria2 is an aria2c process working on one torrent. aria2 cannot be told to
// dial a peer: the other side dials Addr, or both use a tracker (aria2 speaks
// to HTTP trackers only when its DHT is off).
type Aria2 struct {
	Addr string // "127.0.0.1:port", where it accepts peers
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// StartAria2 starts aria2c with DHT, local discovery and PEX off, listening
// on 127.0.0.1. When downloading it exits once the download completes
// (see Done). It is killed when the test ends.
func StartAria2(t testing.TB, o Aria2Options) *Aria2 {
	t.Helper()
	bin := RequireCommand(t, "aria2c")
	if o.Port == 0 {
		o.Port = FreePort(t)
	}
	args := []string{"--no-conf=true", "--dir=" + o.Dir, "--listen-port=" + strconv.Itoa(o.Port),
		"--interface=127.0.0.1", "--disable-ipv6=true", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--file-allocation=none",
		"--summary-interval=0", "--console-log-level=notice", "--bt-require-crypto=false",
		"--bt-stop-timeout=0", "--follow-torrent=false"}
	if o.Seed {
		args = append(args, "--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	} else {
		args = append(args, "--seed-time=0")
	}
	args = append(args, o.TorrentFile)
	log := filepath.Join(t.TempDir(), "aria2.log")
	logf, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("peertest: start aria2c: %v", err)
	}
	a := &Aria2{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)), cmd: cmd, log: log, done: make(chan struct{})}
	go func() { a.err = cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-a.done
		logf.Close()
		if t.Failed() {
			t.Logf("aria2 log (tail):\n%s", tail(a.Log(), 4000))
		}
	})
	waitListening(t, a.Addr, 20*time.Second, a.Log)
	return a
}

// Done is closed when the process exits; Err then says how.
func (a *Aria2) Done() <-chan struct{} { return a.done }

// Err returns the process's exit error once Done is closed.
func (a *Aria2) Err() error { <-a.done; return a.err }

// Log returns what aria2c printed so far.
func (a *Aria2) Log() string {
	b, _ := os.ReadFile(a.log)
	return string(b)
}
