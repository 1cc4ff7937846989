package tracker

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bt-go/bt/internal/waitfor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eventLog is an HTTP tracker that records the events it is sent.
type eventLog struct {
	mu     sync.Mutex
	events []string
	url    string
}

func startEventLog(t *testing.T, peers string) *eventLog {
	l := &eventLog{}
	l.url = serve(t, func(w http.ResponseWriter, r *http.Request) {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		ev := q.Get("event")
		if ev == "" {
			ev = "none"
		}
		l.mu.Lock()
		l.events = append(l.events, ev+"/left="+q.Get("left"))
		l.mu.Unlock()
		w.Write(mustBencode(t, map[string]any{"interval": 3600, "complete": 1, "incomplete": 2, "peers": peers}))
	})
	return l
}

func (l *eventLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

type runningAnnouncer struct {
	*Announcer
	cancel context.CancelFunc
	done   chan error
}

func runAnnouncer(t *testing.T, cfg AnnouncerConfig) *runningAnnouncer {
	a := NewAnnouncer(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAnnouncer{Announcer: a, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *runningAnnouncer) stop() error {
	r.cancel()
	err, ok := <-r.done
	if ok {
		close(r.done)
	}
	return err
}

func TestAnnouncerEvents(t *testing.T) {
	l := startEventLog(t, string([]byte{10, 0, 0, 1, 0x1a, 0xe1}))
	var mu sync.Mutex
	var left int64 = 100
	var got []netip.AddrPort
	r := runAnnouncer(t, AnnouncerConfig{
		Tiers: [][]string{{l.url}}, InfoHash: testHash, PeerID: testPeer, Port: 6881,
		Stats: func() Stats { mu.Lock(); defer mu.Unlock(); return Stats{Left: left} },
		Peers: func(p []netip.AddrPort) { mu.Lock(); got = append(got, p...); mu.Unlock() },
	})
	waitfor.Cond(t, 10*time.Second, "started", func() bool { return len(l.get()) == 1 })
	mu.Lock()
	left = 0
	mu.Unlock()
	r.Completed()
	r.Completed()
	waitfor.Cond(t, 10*time.Second, "completed", func() bool { return len(l.get()) == 2 })
	waitfor.Cond(t, 10*time.Second, "the peers of both announces", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	r.stop()
	want := []string{"started/left=100", "completed/left=0", "stopped/left=0"}
	if ev := l.get(); !slices.Equal(ev, want) {
		t.Errorf("events %v, want %v", ev, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].String() != "10.0.0.1:6881" {
		t.Errorf("peers delivered: %v", got)
	}
	st := r.Trackers()
	if len(st) != 1 || st[0].Complete != 1 || st[0].Incomplete != 2 || st[0].Failures != 0 ||
		len(st[0].Peers) != 1 || st[0].Interval != time.Hour || !slices.Equal(st[0].URLs, []string{l.url}) {
		t.Errorf("report %+v", st)
	}
}

func TestAnnouncerTiers(t *testing.T) {
	bad1 := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) })
	bad2 := serve(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	good := startEventLog(t, "")
	mixed := startEventLog(t, "")
	r := runAnnouncer(t, AnnouncerConfig{
		Tiers:       [][]string{{bad1, bad2, "wss://unsupported.example/", bad1}, {mixed.url, good.url}},
		MinInterval: time.Millisecond,
	})
	waitfor.Cond(t, 10*time.Second, "an announce", func() bool { return !r.Trackers()[1].LastAnnounce.IsZero() })
	st := r.Trackers()
	if st[0].Failures != 2 || st[0].LastError == nil || len(st[0].URLs) != 2 {
		t.Errorf("tier 0: %+v", st[0])
	}
	if st[1].Failures != 0 || st[1].LastError != nil || st[1].Complete != 1 {
		t.Errorf("tier 1: %+v", st[1])
	}
	// The tracker that answered is at the front of its tier, and is the
	// one asked next time.
	first := st[1].URLs[0]
	r.Reannounce()
	waitfor.Cond(t, 10*time.Second, "a second round", func() bool { return r.Trackers()[1].LastAnnounce.After(st[1].LastAnnounce) })
	st = r.Trackers()
	if st[1].URLs[0] != first || st[0].Failures != 4 {
		t.Errorf("after the second round: %+v", st)
	}
	if len(good.get()) != 2 && len(mixed.get()) != 2 {
		t.Errorf("second announce went to the other tracker")
	}
}

func TestAnnouncerAllTiers(t *testing.T) {
	a, b := startEventLog(t, ""), startEventLog(t, "")
	r := runAnnouncer(t, AnnouncerConfig{Tiers: [][]string{{a.url}, {b.url}}, AllTiers: true})
	waitfor.Cond(t, 10*time.Second, "both tiers", func() bool { return len(a.get()) == 1 && len(b.get()) == 1 })
	r.stop()
	if len(a.get()) != 2 || len(b.get()) != 2 {
		t.Errorf("events %v %v, want started and stopped each", a.get(), b.get())
	}
}

// TestAnnouncerHostileCounted puts every hostile tracker of the HTTP and
// UDP tests, and a slow drip, into one tier: each is a failure in the
// report, and none panics.
func TestAnnouncerHostileCounted(t *testing.T) {
	var urls []string
	for _, tc := range hostileReplies(t) {
		urls = append(urls, serve(t, tc.h))
	}
	for _, tc := range hostileUDP(t) {
		urls = append(urls, startFakeUDP(t, "udp4", "127.0.0.1:0", tc.handle).url)
	}
	// A slow drip: a byte every 20 ms until the client gives up.
	urls = append(urls, serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("d8:interval"))
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				w.Write([]byte("1"))
			}
		}
	}))
	client := fastUDPClient()
	client.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	r := runAnnouncer(t, AnnouncerConfig{
		Client: client, Tiers: [][]string{urls}, RetryInterval: time.Hour,
	})
	waitfor.Cond(t, 10*time.Second, "a failed round", func() bool { return r.Trackers()[0].Failures == len(urls) })
	st := r.Trackers()[0]
	if st.LastError == nil || st.Complete != -1 || !st.NextAnnounce.After(time.Now().Add(30*time.Minute)) {
		t.Errorf("report %+v", st)
	}
	r.stop()
}

// TestAnnouncerAskedDuringRound: Completed called while "started" is in
// flight (with left > 0) still sends "completed" right after, and
// Reannounce during a round gets another round.
func TestAnnouncerAskedDuringRound(t *testing.T) {
	arrived := make(chan string)
	release := make(chan struct{})
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		select {
		case arrived <- q.Get("event"):
		case <-r.Context().Done():
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write(mustBencode(t, map[string]any{"interval": 3600, "peers": ""}))
	})
	var mu sync.Mutex
	left := int64(10)
	r := runAnnouncer(t, AnnouncerConfig{
		Tiers: [][]string{{u}}, MinInterval: time.Millisecond, StopTimeout: time.Millisecond,
		Stats: func() Stats { mu.Lock(); defer mu.Unlock(); return Stats{Left: left} },
	})
	if ev := <-arrived; ev != "started" {
		t.Fatalf("first event %q", ev)
	}
	mu.Lock()
	left = 0
	mu.Unlock()
	r.Completed()
	release <- struct{}{}
	if ev := <-arrived; ev != "completed" {
		t.Fatalf("second event %q, want completed", ev)
	}
	r.Reannounce()
	release <- struct{}{}
	if ev := <-arrived; ev != "" {
		t.Fatalf("third event %q, want a regular announce", ev)
	}
	release <- struct{}{}
	close(release)
	r.stop()
}

// TestAnnouncerShuffles: BEP 12 shuffles each tier, so the same torrent
// does not send every client to the first tracker listed. Eight URLs stay
// in the order given twenty times in a row with odds of (1/8!)^20.
func TestAnnouncerShuffles(t *testing.T) {
	var tier []string
	for i := range 8 {
		tier = append(tier, "http://127.0.0.1:"+string(rune('1'+i))+"/announce")
	}
	orders := make(map[string]bool)
	for range 20 {
		got := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{tier}}).Trackers()[0].URLs
		if len(got) != len(tier) {
			t.Fatalf("tier of %d URLs, want %d", len(got), len(tier))
		}
		orders[strings.Join(got, " ")] = true
	}
	if len(orders) < 2 {
		t.Errorf("the tier was never shuffled: %v", orders)
	}
}

// TestAnnouncerFailuresReset: Failures counts errors in a row; an answer
// resets it and clears LastError.
func TestAnnouncerFailuresReset(t *testing.T) {
	var mu sync.Mutex
	n := 0
	third, release := make(chan struct{}), make(chan struct{})
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch {
		case k <= 2:
			w.Write([]byte("<html>busy</html>"))
			return
		case k == 3:
			third <- struct{}{}
			<-release
		}
		w.Write(mustBencode(t, map[string]any{"interval": 3600, "peers": ""}))
	})
	r := runAnnouncer(t, AnnouncerConfig{Tiers: [][]string{{u}}, RetryInterval: time.Millisecond, MinInterval: time.Millisecond})
	<-third
	if st := r.Trackers()[0]; st.Failures != 2 || st.LastError == nil {
		t.Errorf("after two errors: failures %d, last error %v", st.Failures, st.LastError)
	}
	close(release)
	waitfor.Cond(t, 10*time.Second, "an answer", func() bool { return !r.Trackers()[0].LastAnnounce.IsZero() })
	if st := r.Trackers()[0]; st.Failures != 0 || st.LastError != nil {
		t.Errorf("after an answer: failures %d, last error %v", st.Failures, st.LastError)
	}
}

// TestAnnouncerCompletedAlwaysSent: a download that completes before its
// "started" goes out (left=0 by then) still sends "completed" after it,
// and one whose Run ends before any announce still tells the tracker
// "completed" before "stopped": trackers count downloads by that event.
func TestAnnouncerCompletedAlwaysSent(t *testing.T) {
	t.Run("before started", func(t *testing.T) {
		l := startEventLog(t, "")
		a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{l.url}}, Stats: func() Stats { return Stats{Left: 0} }})
		a.Completed()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		waitfor.Cond(t, 10*time.Second, "started and completed", func() bool { return len(l.get()) == 2 })
		cancel()
		<-done
		want := []string{"started/left=0", "completed/left=0", "stopped/left=0"}
		if ev := l.get(); !slices.Equal(ev, want) {
			t.Errorf("events %v, want %v", ev, want)
		}
	})
	t.Run("run ends first", func(t *testing.T) {
		l := startEventLog(t, "")
		a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{l.url}}, Stats: func() Stats { return Stats{Left: 0} }})
		a.Completed()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a.Run(ctx)
		want := []string{"completed/left=0", "stopped/left=0"}
		if ev := l.get(); !slices.Equal(ev, want) {
			t.Errorf("events %v, want %v", ev, want)
		}
	})
}
