package bt

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
)

// measureRate returns the rate at which counter grows over span, once it
// has started to grow and after a warm-up (slow start, the initial burst).
// The clock is read outside the two counter readings (t0 before the first,
// t1 after the second), so a stall of a loaded machine between a reading
// and the clock (or a slow counter, an RPC to libtorrent) can only lower
// the measured rate, never raise it over the limit.
func measureRate(counter func() int64, warmup, span time.Duration) float64 {
	for deadline := time.Now().Add(30 * time.Second); counter() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(warmup)
	t0 := time.Now()
	a := counter()
	time.Sleep(span)
	b := counter()
	t1 := time.Now()
	return float64(b-a) / t1.Sub(t0).Seconds()
}

// checkRate logs how close got came to the limit want, and fails if the
// limit was exceeded by more than 25 % or the transfer was all but starved
// (under 10 % of the limit: a stuck limiter). Falling short of the limit by
// less is no failure: a loaded machine (CI runs many tests at once) may not
// reach it, and that says nothing about whether the limit holds.
func checkRate(t *testing.T, what string, want int64, got float64) {
	t.Helper()
	dev := (got - float64(want)) / float64(want)
	t.Logf("%s: limit %s/s, achieved %s/s (%+.1f%%)", what, kib(float64(want)), kib(got), 100*dev)
	if dev > 0.25 || got < 0.1*float64(want) {
		t.Errorf("%s: achieved %.0f B/s, limit %d B/s: off by %+.0f%%", what, got, want, 100*dev)
	}
}

func kib(x float64) string { return fmt.Sprintf("%.0f KiB", x/1024) }

// TestUploadLimitToLibtorrent: libtorrent downloads from a bt seed with a
// client-wide upload limit; the rate libtorrent sees is the limit.
func TestUploadLimitToLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	if testing.Short() {
		t.Skip("measures rates over seconds")
	}
	dir := t.TempDir()
	_, mi, file, ih := ltTorrent(t, dir, false, 6<<20)
	const limit = 768 << 10
	c := newTestClient(t, Config{MaxUploadRate: limit})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
	// libtorrent drops connections made while it checks files.
	lt.WaitStatus(t, ih, 10*time.Second, func(s peertest.Status) bool { return s.State == "downloading" })
	lt.ConnectPeer(t, ih, loopback(c.Port()).String())
	lt.WaitStatus(t, ih, 30*time.Second, func(s peertest.Status) bool { return s.TotalPayloadDownload > 0 })
	got := measureRate(func() int64 { return lt.Status(t, ih).TotalPayloadDownload }, time.Second, 3*time.Second)
	checkRate(t, "bt → libtorrent upload", limit, got)
	if d, u := c.RateLimits(); d != 0 || u != limit {
		t.Errorf("RateLimits() = %d, %d", d, u)
	}
}

// TestDownloadLimitFromLibtorrent: bt downloads from an unlimited
// libtorrent seed under a per-torrent download limit.
func TestDownloadLimitFromLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	if testing.Short() {
		t.Skip("measures rates over seconds")
	}
	dir := t.TempDir()
	_, mi, file, _ := ltTorrent(t, dir, true, 8<<20)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
	const limit = 1 << 20
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), MaxDownloadRate: limit,
		Peers: []netip.AddrPort{ltAddr(t, lt)}})
	if err != nil {
		t.Fatal(err)
	}
	got := measureRate(tor.Downloaded, time.Second, 3*time.Second)
	checkRate(t, "libtorrent → bt download", limit, got)
	// Lifting the limit lets it finish at full speed.
	tor.SetRateLimits(0, 0)
	waitComplete(t, tor, 60*time.Second)
}

// TestMaxConns: a seed limited to one connection, by its torrent's bound
// or by the client-wide one, serves one leecher and refuses the other.
func TestMaxConns(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		opts TorrentOptions
	}{
		{"torrent", Config{}, TorrentOptions{MaxConns: 1}},
		{"client", Config{MaxConns: 1}, TorrentOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) { testMaxConns(t, tc.cfg, tc.opts) })
	}
}

func testMaxConns(t *testing.T, cfg Config, opts TorrentOptions) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "small", 300_000)
	mi := makeTorrent(t, src, 32<<10)
	seed := newTestClient(t, cfg)
	opts.Dir = filepath.Join(dir, "seed")
	st, err := seed.AddTorrent(mi, &opts)
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	// Both leechers download slowly, so the one that holds the seed's only
	// connection is still downloading (and holding it) when the test looks.
	var leechers []*Torrent
	for k := range 2 {
		c := newTestClient(t, Config{})
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, fmt.Sprint("l", k)),
			MaxDownloadRate: 64 << 10, Peers: []netip.AddrPort{loopback(seed.Port())}})
		if err != nil {
			t.Fatal(err)
		}
		leechers = append(leechers, tor)
	}
	const enough = 3 // pieces the admitted leecher gets while the other waits
	deadline := time.Now().Add(30 * time.Second)
	for leechers[0].Bitfield().Count() < enough && leechers[1].Bitfield().Count() < enough {
		if n := len(st.Peers()); n > 1 {
			t.Fatalf("seed has %d peers with a bound of 1", n)
		}
		if time.Now().After(deadline) {
			t.Fatal("no leecher got any data")
		}
		time.Sleep(5 * time.Millisecond)
	}
	other := leechers[1]
	if other.Bitfield().Count() >= enough {
		other = leechers[0]
	}
	if other.Seeding() || leechers[0].Seeding() || leechers[1].Seeding() {
		t.Fatal("a leecher completed: the rate limit did not hold the slot")
	}
	if n := other.Bitfield().Count(); n != 0 {
		t.Errorf("the refused leecher has %d pieces", n)
	}
}
