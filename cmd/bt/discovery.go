package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/termtext"
)

// publicDHTBootstrap is where the DHT is joined when no --dht-bootstrap is
// given: the public routers, or the comma-separated HOST:PORT list in the
// environment variable BT_DHT_BOOTSTRAP when it is set (set and empty: no
// bootstrap node at all). The command's tests set it empty, so neither they
// nor the bt processes they start ever reach beyond loopback.
var publicDHTBootstrap = defaultDHTBootstrap()

func defaultDHTBootstrap() []string {
	env, ok := os.LookupEnv("BT_DHT_BOOTSTRAP")
	if !ok {
		return bt.DefaultDHTBootstrap
	}
	var nodes []string
	for _, n := range strings.Split(env, ",") {
		if n = strings.TrimSpace(n); n != "" {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// discoveryFlags are the peer-discovery flags of download and seed.
type discoveryFlags struct {
	noDHT     bool
	bootstrap []string
	trackers  []string
}

func (f *discoveryFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.noDHT, "no-dht", false, "do not use the DHT to find peers")
	cmd.Flags().StringArrayVar(&f.bootstrap, "dht-bootstrap", nil,
		"join the DHT through the node at HOST:PORT (repeatable; default: the public routers, or $BT_DHT_BOOTSTRAP)")
	cmd.Flags().StringArrayVar(&f.trackers, "tracker", nil,
		"also announce to the tracker at URL (http, https or udp; repeatable; not for private torrents)")
}

// configure turns the DHT on unless --no-dht.
func (f *discoveryFlags) configure(cfg *bt.Config) error {
	if f.noDHT {
		if len(f.bootstrap) > 0 {
			return fmt.Errorf("--dht-bootstrap and --no-dht contradict each other")
		}
		return nil
	}
	for _, b := range f.bootstrap {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("--dht-bootstrap %q is not a HOST:PORT address", b)
		}
	}
	cfg.DHT = true
	cfg.DHTBootstrap = f.bootstrap
	if len(f.bootstrap) == 0 {
		cfg.DHTBootstrap = publicDHTBootstrap
	}
	return nil
}

// tiers checks the --tracker URLs and returns them, one tier each.
func (f *discoveryFlags) tiers() ([][]string, error) {
	var tiers [][]string
	for _, u := range f.trackers {
		l := strings.ToLower(u)
		if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "udp://") {
			return nil, fmt.Errorf("--tracker %q is not an http, https or udp URL", u)
		}
		tiers = append(tiers, []string{u})
	}
	return tiers, nil
}

// canFindPeers fails at once when nothing could ever find a peer for src:
// no tracker in it or in --tracker, no peer in it or in --peer, and the
// DHT off (--no-dht, or a private torrent).
func (f *discoveryFlags) canFindPeers(src *source, dht, peers bool) error {
	if peers || len(f.trackers) > 0 {
		return nil
	}
	what := "torrent"
	if src.mi != nil {
		if len(src.mi.Trackers()) > 0 {
			return nil
		}
		dht = dht && !src.mi.Info.Private
	} else {
		if len(src.mag.Trackers) > 0 || len(src.mag.Peers) > 0 {
			return nil
		}
		what = "magnet link"
	}
	if dht {
		return nil
	}
	why := "the DHT is off (--no-dht)"
	if src.mi != nil && src.mi.Info.Private {
		why = "it is private, so the DHT is not used"
	}
	return fmt.Errorf("nothing can find peers for this %s: it names no tracker or peer and %s; give --peer HOST:PORT or --tracker URL", what, why)
}

// apply adds the --tracker URLs to tor, one tier each.
func (f *discoveryFlags) apply(tor *bt.Torrent) error {
	if len(f.trackers) == 0 {
		return nil
	}
	tiers, err := f.tiers()
	if err != nil {
		return err
	}
	err = tor.AddTrackers(tiers...)
	if errors.Is(err, bt.ErrPrivate) {
		return fmt.Errorf("--tracker: %s is private: it uses only its own trackers", termtext.Safe(tor.Name()))
	}
	return err
}

// reportTrackers prints tracker trouble to w while tor runs, until the
// returned function is called.
func reportTrackers(w io.Writer, tor *bt.Torrent) (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	r := &trackerReport{w: w}
	go func() {
		defer close(ended)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				r.update(tor)
				return
			case <-tick.C:
				r.update(tor)
			}
		}
	}()
	return func() { close(done); <-ended }
}

// trackerReport prints a line when a tracker starts failing, fails
// differently, or works again: not one per announce.
type trackerReport struct {
	w    io.Writer
	last map[string]string // tier's first URL → last error printed ("" when working)
}

func (r *trackerReport) update(tor *bt.Torrent) {
	if r.last == nil {
		r.last = make(map[string]string)
	}
	for _, s := range tor.Trackers() {
		if len(s.URLs) == 0 || s.LastAnnounce.IsZero() && s.LastError == nil {
			continue
		}
		key := strings.Join(s.URLs, " ")
		msg := ""
		if s.LastError != nil {
			msg = s.LastError.Error()
		}
		prev, seen := r.last[key]
		if seen && prev == msg || !seen && msg == "" {
			r.last[key] = msg
			continue
		}
		r.last[key] = msg
		name := s.URLs[0]
		if len(s.URLs) > 1 {
			name = "tier " + strings.Join(s.URLs, ", ")
		}
		switch {
		case msg == "":
			fmt.Fprintf(r.w, "tracker %s: working again (%d seeds, %d leechers)\n", name, max(s.Complete, 0), max(s.Incomplete, 0))
		case s.Failures == 1:
			fmt.Fprintf(r.w, "tracker %s: %s\n", name, shortTrackerError(msg, s.URLs))
		default:
			fmt.Fprintf(r.w, "tracker %s: %s (%d failures in a row)\n", name, shortTrackerError(msg, s.URLs), s.Failures)
		}
	}
}

// shortTrackerError drops what the line already says from a tracker
// error: the package prefix and the URL.
func shortTrackerError(msg string, urls []string) string {
	msg = strings.TrimPrefix(msg, "tracker: ")
	for _, u := range urls {
		msg = strings.Replace(msg, "request to "+u+": ", "", 1)
		msg = strings.Replace(msg, u+": ", "", 1)
	}
	return msg
}
