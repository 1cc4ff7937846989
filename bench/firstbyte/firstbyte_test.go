// Package firstbyte measures how soon a libtorrent leecher with its default
// connection settings gets its first payload byte from a seeder: bt seed
// (this tree's, and optionally an older commit's) and anacrolix/torrent's
// seeder. libtorrent by default tries Message Stream Encryption first on
// its outgoing connections, so a seeder without MSE costs it a failed
// connection and a retry.
//
//	cd bench/firstbyte
//	BT_FIRSTBYTE=1 [BT_FIRSTBYTE_BEFORE=<commit>] [ROUNDS=7] go test -v
package firstbyte

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const python = "/usr/bin/python3" // the Debian interpreter, which has libtorrent

func TestFirstByte(t *testing.T) {
	if os.Getenv("BT_FIRSTBYTE") != "1" {
		t.Skip("a measurement: set BT_FIRSTBYTE=1 to run it")
	}
	if err := exec.Command(python, "-c", "import libtorrent").Run(); err != nil {
		t.Skipf("no libtorrent: %v", err)
	}
	rounds := 7
	if s := os.Getenv("ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	tmp := t.TempDir()
	root, _ := filepath.Abs("../..")
	build := func(dir, out, pkg string) {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	type seeder struct{ name, bin string }
	var seeders []seeder
	if c := os.Getenv("BT_FIRSTBYTE_BEFORE"); c != "" {
		src := filepath.Join(tmp, "before-src")
		os.MkdirAll(src, 0o755)
		sh := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %q | tar -x -C %q", root, c, src))
		if b, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("git archive %s: %v\n%s", c, err, b)
		}
		build(src, filepath.Join(tmp, "bt-before"), "./cmd/bt")
		seeders = append(seeders, seeder{"bt seed at " + c, filepath.Join(tmp, "bt-before")})
	}
	build(root, filepath.Join(tmp, "bt"), "./cmd/bt")
	seeders = append(seeders, seeder{"bt seed (this tree)", filepath.Join(tmp, "bt")})
	build(".", filepath.Join(tmp, "anaseed"), "./anaseed")
	seeders = append(seeders, seeder{"anacrolix/torrent v1.61.0", filepath.Join(tmp, "anaseed")})

	data := filepath.Join(tmp, "data", "data.bin")
	os.MkdirAll(filepath.Dir(data), 0o755)
	rnd, _ := os.Open("/dev/urandom")
	f, _ := os.Create(data)
	io.CopyN(f, rnd, 4<<20)
	f.Close()
	rnd.Close()
	torrent := filepath.Join(tmp, "data.torrent")
	if b, err := exec.Command(filepath.Join(tmp, "bt"), "create", "-o", torrent, data).CombinedOutput(); err != nil {
		t.Fatalf("bt create: %v\n%s", err, b)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "libtorrent (default encryption settings, TCP) leeching 4 MiB, %d rounds, medians\n", rounds)
	fmt.Fprintf(&table, "| %-28s | %22s | %27s | %19s |\n", "seeder", "connect → first byte", "connect_peer → first byte", "connections/round")
	fmt.Fprintf(&table, "|%s|%s|%s|%s|\n", strings.Repeat("-", 30), strings.Repeat("-", 24), strings.Repeat("-", 29), strings.Repeat("-", 21))
	for _, s := range seeders {
		port, stop := startSeeder(t, s.bin, torrent, filepath.Dir(data))
		ltDir := filepath.Join(tmp, "lt-"+strconv.Itoa(port))
		out, err := exec.Command(python, "lt_firstbyte.py", torrent, "127.0.0.1:"+strconv.Itoa(port), strconv.Itoa(rounds), ltDir).Output()
		stop()
		if err != nil {
			t.Fatalf("%s: lt_firstbyte.py: %v\n%s", s.name, err, out)
		}
		var conn, peer, n []float64
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var r struct {
				FromConnectPeer float64 `json:"from_connect_peer"`
				FromConnect     float64 `json:"from_connect"`
				Connects        float64 `json:"connects"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s: %q: %v", s.name, line, err)
			}
			conn, peer, n = append(conn, r.FromConnect), append(peer, r.FromConnectPeer), append(n, r.Connects)
		}
		t.Logf("%s: connect → first byte %v", s.name, conn)
		fmt.Fprintf(&table, "| %-28s | %20.0f ms | %25.0f ms | %19.0f |\n", s.name, 1000*median(conn), 1000*median(peer), median(n))
	}
	t.Log("\n" + table.String())
	fmt.Print(table.String())
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// startSeeder starts bt seed or anaseed and returns its port once it
// serves, and a function that stops it.
func startSeeder(t *testing.T, bin, torrent, dir string) (int, func()) {
	t.Helper()
	var cmd *exec.Cmd
	port := 0
	if strings.HasSuffix(bin, "anaseed") {
		cmd = exec.Command(bin, torrent, dir)
	} else {
		port = freePort(t)
		cmd = exec.Command(bin, "seed", "--no-dht", "--dir", dir, "--port", strconv.Itoa(port), torrent)
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m struct{ Port int }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Port != 0 {
				ready <- m.Port
			} else if strings.HasPrefix(sc.Text(), "seeding") {
				ready <- port
			}
		}
		close(ready)
	}()
	select {
	case p, ok := <-ready:
		if !ok {
			stop()
			t.Fatalf("%s exited before serving", bin)
		}
		return p, stop
	case <-time.After(60 * time.Second):
		stop()
		t.Fatalf("%s: not serving after a minute", bin)
	}
	return 0, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
