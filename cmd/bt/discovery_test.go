package main

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/dht"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker/server"
)

// The command's tests never join the public DHT: without --dht-bootstrap
// the DHT starts with no contact at all.

// resetDiscoveryFlags clears the discovery flags after a test, since the
// commands (and their flag values) live for the whole test binary. It
// clears the subcommands' contexts too, before and after: cobra gives a
// subcommand the context of its first execution only, and ours are
// cancelled when the test ends.
func resetDiscoveryFlags(t *testing.T) {
	for _, c := range rootCmd.Commands() {
		c.SetContext(nil) //lint:ignore SA1012 cobra takes the next execution's context when nil
	}
	t.Cleanup(func() {
		for _, c := range rootCmd.Commands() {
			c.SetContext(nil) //lint:ignore SA1012 as above
			for _, name := range []string{"no-dht", "dht-bootstrap", "tracker"} {
				fl := c.Flags().Lookup(name)
				if fl == nil {
					continue
				}
				if sv, ok := fl.Value.(pflag.SliceValue); ok {
					sv.Replace(nil)
				} else {
					fl.Value.Set(fl.DefValue)
				}
				fl.Changed = false
			}
		}
	})
}

// startTestTracker runs our tracker server on 127.0.0.1 and returns its
// HTTP announce URL.
func startTestTracker(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.New(server.Config{}).ListenAndServe(ctx, "127.0.0.1:0", "", func(h, _ net.Addr) { addrs <- h })
	}()
	var a net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + a.String() + "/announce"
}

// seedClient seeds the torrent of seedFixture with cfg.
func seedClient(t *testing.T, data, torrentFile string, cfg bt.Config) (*bt.Client, *bt.Torrent) {
	t.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	c, err := bt.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tor, err := c.AddTorrentFile(torrentFile, &bt.TorrentOptions{Dir: filepath.Dir(data)})
	if err != nil {
		t.Fatal(err)
	}
	return c, tor
}

// TestDownloadThroughTracker: bt download finds a seed through a tracker
// given with --tracker (no --peer), and reports the dead tracker next to
// it once.
func TestDownloadThroughTracker(t *testing.T) {
	resetDiscoveryFlags(t)
	url := startTestTracker(t)
	data, file, _ := seedFixture(t)
	_, st := seedClient(t, data, file, bt.Config{})
	if err := st.AddTrackers([]string{url}); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the seed's announce", func() bool {
		r := st.Trackers()
		return len(r) == 1 && !r[0].LastAnnounce.IsZero()
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/announce"
	ln.Close()

	dst := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "download", "--dir", dst, "--port", "0", "--no-dht", "--tracker", dead, "--tracker", url, file)
	if err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
	if n := strings.Count(out, "tracker "+dead); n != 1 {
		t.Errorf("the dead tracker is reported %d times, want once:\n%s", n, out)
	}
}

// TestDownloadThroughDHT: bt download fetches a magnet link with no peer
// and no tracker, finding the seed through the DHT joined with
// --dht-bootstrap.
func TestDownloadThroughDHT(t *testing.T) {
	resetDiscoveryFlags(t)
	router, err := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	data, file, _ := seedFixture(t)
	_, st := seedClient(t, data, file, bt.Config{DHT: true, DHTBootstrap: []string{router.Addr().String()}})
	waitfor.Cond(t, 10*time.Second, "the seed to announce itself", func() bool { return router.Stats().InfoHashes > 0 })

	mi, err := metainfo.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "download", "--dir", dst, "--port", "0",
		"--dht-bootstrap", router.Addr().String(), mi.Magnet().String())
	if err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
	_ = st
}

// TestDiscoveryFlagErrors: contradictory or malformed discovery flags are
// refused before anything starts.
func TestDiscoveryFlagErrors(t *testing.T) {
	for _, f := range []discoveryFlags{
		{noDHT: true, bootstrap: []string{"127.0.0.1:1"}},
		{bootstrap: []string{"no-port"}},
		{bootstrap: []string{"127.0.0.1:" + strconv.Itoa(70000)}},
	} {
		var cfg bt.Config
		if err := f.configure(&cfg); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
	var cfg bt.Config
	f := discoveryFlags{}
	if err := f.configure(&cfg); err != nil || !cfg.DHT || len(cfg.DHTBootstrap) != 0 {
		t.Errorf("default: DHT %v, bootstrap %v (the tests' public list is empty), err %v", cfg.DHT, cfg.DHTBootstrap, err)
	}
}

// TestResumeThroughDHT: bt resume joins the DHT as bt download does
// (--dht-bootstrap here): a magnet link recorded in the state directory,
// with no peer and no tracker, finds its seed through the DHT and
// completes.
func TestResumeThroughDHT(t *testing.T) {
	resetDiscoveryFlags(t)
	router, err := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	data, file, _ := seedFixture(t)
	seedClient(t, data, file, bt.Config{DHT: true, DHTBootstrap: []string{router.Addr().String()}})
	waitfor.Cond(t, 10*time.Second, "the seed to announce itself", func() bool { return router.Stats().InfoHashes > 0 })

	// Record the magnet link in a state directory, as an interrupted bt
	// download would have.
	mi, err := metainfo.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	state, dst := t.TempDir(), t.TempDir()
	c, err := bt.NewClient(bt.Config{NoListen: true, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddMagnet(mi.Magnet().String(), &bt.TorrentOptions{Dir: dst}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := execute(t, ctx, "resume", "--state-dir", state, "--port", "0",
		"--dht-bootstrap", router.Addr().String())
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	peertest.SameFiles(t, data, filepath.Join(dst, "pack"))
}
