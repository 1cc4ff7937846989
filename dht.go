package bt

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bt-go/bt/dht"
	"github.com/bt-go/bt/tracker"
)

// The DHT as a peer source (BEP 5). With Config.DHT the client runs one
// Mainline DHT node, on UDP at the port number of its TCP listener. It
// sets the DHT bit in its handshakes, sends its port message to peers
// that set theirs, and adds the nodes peers announce with their port
// messages to its routing table. Each non-private torrent is announced on
// the DHT and its peers looked up when it starts, then every
// DHTAnnounceInterval, and sooner while it has few peers. The routing
// table is saved in DHTStateFile (by default dht.state in StateDir) and
// reused on the next start.

// DefaultDHTBootstrap lists public nodes through which a new DHT node
// joins the Internet's DHT. The library never uses it by itself
// (Config.DHTBootstrap is empty by default); the bt command does unless
// told otherwise.
var DefaultDHTBootstrap = []string{
	"router.bittorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"router.utorrent.com:6881",
	"dht.libtorrent.org:25401",
}

// DefaultDHTAnnounceInterval is the default of Config.DHTAnnounceInterval.
const DefaultDHTAnnounceInterval = 15 * time.Minute

// DHT lookup pacing.
const (
	dhtLookupTimeout = time.Minute
	dhtRetryBase     = 2 * time.Second // first wait after a failed lookup
	dhtRetryMax      = 5 * time.Minute
	dhtShortInterval = time.Minute // between lookups while short of peers
)

// clientDiscovery is what a Client shares between its torrents' sources.
type clientDiscovery struct {
	trackers *tracker.Client // nil with Config.NoTrackers
	dht      *dht.Server     // nil without Config.DHT
}

// dhtState is a torrent's DHT lookup schedule, owned by its loop.
type dhtState struct {
	running bool
	next    time.Time // when the next lookup is due
	last    time.Time // when the last one ended
	fails   int
}

// startDiscovery starts what the client shares: the tracker client and,
// with Config.DHT, the DHT node on the TCP listener's port number (any
// port if that one is taken over UDP).
func (c *Client) startDiscovery() error {
	if !c.cfg.NoTrackers {
		c.disc.trackers = &tracker.Client{UserAgent: "bt/" + Version}
	}
	if !c.cfg.DHT {
		return nil
	}
	host, _, err := net.SplitHostPort(c.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("bt: listen address %q: %w", c.cfg.ListenAddr, err)
	}
	state := c.cfg.DHTStateFile
	if state == "" && c.cfg.StateDir != "" {
		state = filepath.Join(c.cfg.StateDir, "dht.state")
	}
	cfg := dht.Config{
		Addr:      net.JoinHostPort(host, strconv.Itoa(c.port)),
		Bootstrap: c.cfg.DHTBootstrap,
		StateFile: state,
		Logger:    c.cfg.Logger,
	}
	s, err := dht.New(cfg)
	if err != nil && c.port != 0 {
		c.cfg.Logger.Warn("DHT: UDP port taken, using another", "port", c.port, "err", err)
		cfg.Addr = net.JoinHostPort(host, "0")
		s, err = dht.New(cfg)
	}
	if err != nil {
		return fmt.Errorf("bt: starting the DHT: %w", err)
	}
	c.disc.dht = s
	c.SetDHTPortHandler(s.AddNode)
	return nil
}

// closeDiscovery stops the DHT node (saving its routing table).
func (c *Client) closeDiscovery() {
	if c.disc.dht != nil {
		c.disc.dht.Close()
	}
}

// DHT returns the client's DHT node, or nil without Config.DHT. Its
// AddNode adds a contact, its Stats and Nodes describe it.
func (c *Client) DHT() *dht.Server { return c.disc.dht }

// useDHT reports whether the torrent's connections set the DHT bit: the
// client runs a node and the torrent is not private.
func (t *Torrent) useDHT() bool { return t.client.disc.dht != nil && !t.private() }

// sendDHTPort sends our DHT port to a peer that set the DHT bit (BEP 5).
func (t *Torrent) sendDHTPort(p *peer) {
	if t.useDHT() && p.conn.SupportsDHT() {
		p.conn.Port(t.client.disc.dht.Addr().Port())
	}
}

// peerDHTPort feeds a peer's DHT node (its port message, BEP 5) to ours,
// unless the torrent is private: a private torrent's peers never reach the
// DHT (BEP 27). A magnet link's port messages wait for the metadata, which
// says whether it is private.
func (t *Torrent) peerDHTPort(p *peer, port uint16) {
	switch {
	case t.meta.Load() == nil:
		p.dhtPort = port
	case !t.private():
		t.client.dhtPort(p.addr, port)
	}
}

// dhtTick starts a DHT lookup (and announce) for the torrent when one is
// due. short says the torrent wants more peers.
func (t *Torrent) dhtTick(now time.Time, short bool) {
	node := t.client.disc.dht
	s := &t.disc.dht
	if node == nil || s.running || t.private() || !t.disc.running {
		return
	}
	if now.Before(s.next) && !(short && s.fails == 0 && now.Sub(s.last) >= dhtShortInterval) {
		return
	}
	if st := node.Stats(); st.Nodes4+st.Nodes6 == 0 {
		return // still joining: look again next tick
	}
	s.running = true
	run := t.disc.ctx
	ctx, cancel := context.WithTimeout(run, dhtLookupTimeout)
	port := t.client.Port()
	ih := [20]byte(t.infoHash)
	start := now
	t.disc.wg.Go(func() {
		defer cancel()
		var peers []netip.AddrPort
		var err error
		if port != 0 {
			peers, err = node.AnnounceAndGetPeers(ctx, ih, port, false)
		} else {
			for batch := range node.GetPeers(ctx, ih) {
				peers = append(peers, batch...)
			}
		}
		t.post(func() { t.dhtDone(run, start, peers, err) })
	})
}

// dhtDone takes a lookup's result and schedules the next one.
// run is the context of the run that started the lookup.
func (t *Torrent) dhtDone(run context.Context, start time.Time, peers []netip.AddrPort, err error) {
	s := &t.disc.dht
	if run != t.disc.ctx || !t.disc.running {
		return // the run it belonged to stopped; the next one starts afresh
	}
	s.running = false
	now := time.Now()
	s.last = now
	t.log.Debug("DHT lookup", "peers", len(peers), "err", err, "took", now.Sub(start).Round(time.Millisecond))
	t.addSourcePeers(peers)
	switch {
	case len(peers) == 0:
		// Nothing yet (the swarm may not have announced): look again soon,
		// backing off.
		s.fails++
		s.next = now.Add(min(dhtRetryBase<<min(s.fails-1, 10), dhtRetryMax))
	case len(t.peers) < lowPeers && !t.completed:
		s.fails = 0
		s.next = now.Add(min(dhtShortInterval, t.cfg.DHTAnnounceInterval))
	default:
		s.fails = 0
		s.next = now.Add(t.cfg.DHTAnnounceInterval)
	}
}
