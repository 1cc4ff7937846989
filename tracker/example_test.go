package tracker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/bt-go/bt/tracker"
)

// A tracker of our own for the examples: one peer, 10.0.0.1:6881.
func exampleTracker() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "d8:completei1e10:incompletei0e8:intervali1800e5:peers6:\x0a\x00\x00\x01\x1a\xe1e")
	}))
}

func ExampleClient_Announce() {
	srv := exampleTracker()
	defer srv.Close()

	var c tracker.Client
	resp, err := c.Announce(context.Background(), srv.URL+"/announce", tracker.AnnounceRequest{
		InfoHash: [20]byte{1, 2, 3},
		PeerID:   [20]byte{'-', 'B', 'T'},
		Port:     6881,
		Left:     1 << 20,
		Event:    tracker.EventStarted,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Interval, resp.Complete, resp.Peers)
	// Output: 30m0s 1 [10.0.0.1:6881]
}

func ExampleAnnouncer() {
	srv := exampleTracker()
	defer srv.Close()

	peers := make(chan []netip.AddrPort, 1)
	a := tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Tiers:    [][]string{{srv.URL + "/announce"}, {"udp://backup.invalid:6969"}},
		InfoHash: [20]byte{1, 2, 3},
		PeerID:   [20]byte{'-', 'B', 'T'},
		Port:     6881,
		Stats:    func() tracker.Stats { return tracker.Stats{Left: 1 << 20} },
		Peers: func(p []netip.AddrPort) {
			select {
			case peers <- p:
			default:
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()

	fmt.Println("peers:", <-peers)
	tier := a.Trackers()[0]
	fmt.Println("seeds:", tier.Complete, "failures:", tier.Failures, "urls:", len(tier.URLs))

	cancel() // sends "stopped"
	<-done
	// Output:
	// peers: [10.0.0.1:6881]
	// seeds: 1 failures: 0 urls: 1
}

func ExampleTiers() {
	fmt.Println(tracker.Tiers("http://a/announce", nil))
	fmt.Println(tracker.Tiers("http://a/announce", [][]string{{"udp://b:1", ""}, {}, {"http://c/announce"}}))
	// Output:
	// [[http://a/announce]]
	// [[udp://b:1] [http://c/announce]]
}
