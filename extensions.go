package bt

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire/metadata"
	"github.com/bt-go/bt/wire/pex"
)

// attachExtensions installs ut_metadata and ut_pex on a new connection.
func (t *Torrent) attachExtensions(p *peer) {
	var md metadata.Config
	md.Logger = t.log
	if m := t.meta.Load(); m != nil {
		md.Info = m.mi.InfoBytes
	} else if t.fetcher != nil {
		md.Fetcher = t.fetcher
	}
	if md.Info != nil || md.Fetcher != nil {
		p.conn.Use(metadata.New(md))
	}
	if m := t.meta.Load(); m != nil && m.info.Private {
		return // BEP 27: no PEX on private torrents
	}
	// Our own address needs no pex.Config.Self: the connection's
	// wire.Config.ListenPort (wireConfig) lets ut_pex leave out our listen
	// port on the connection's local address and on the address the peer
	// says it sees us at.
	x := pex.New(pex.Config{
		OnPeer: func(addr netip.AddrPort, f pex.Flags) {
			if f&pex.FlagPrefersEncryption != 0 {
				t.client.enc.note(addr, true)
			}
			// Runs on the read goroutine: queue, never block. The loop
			// takes the queue on its next tick.
			t.pexMu.Lock()
			if len(t.pexNew) < maxPEXQueue {
				t.pexNew = append(t.pexNew, addr)
			}
			t.pexMu.Unlock()
		},
		Logger: t.log,
	})
	p.conn.Use(x)
	p.pex = x
	for q := range t.peers {
		if q != p && q.pex != nil {
			if a := q.listenAddr(); a.IsValid() {
				x.AddPeerFlags(a, pexFlags(q))
			}
		}
	}
	x.Start()
	if a := p.listenAddr(); a.IsValid() {
		for q := range t.peers {
			if q != p && q.pex != nil {
				q.pex.AddPeerFlags(a, pexFlags(p))
			}
		}
	}
}

// maxPEXQueue bounds the peers learnt by PEX between two ticks.
const maxPEXQueue = 500

// takePEXPeers adds the peers PEX reported since the last tick.
func (t *Torrent) takePEXPeers() {
	t.pexMu.Lock()
	list := t.pexNew
	t.pexNew = nil
	t.pexMu.Unlock()
	for _, a := range list {
		t.addKnown(a)
	}
}

// listenAddr is where the peer accepts connections: its address for an
// outgoing connection, the port of its extended handshake otherwise.
func (p *peer) listenAddr() netip.AddrPort {
	if !p.incoming {
		return p.addr
	}
	return p.listen
}

func (t *Torrent) pexListenPort(p *peer, port int) {
	p.listen = netip.AddrPortFrom(p.addr.Addr(), uint16(port))
	for q := range t.peers {
		if q != p && q.pex != nil {
			q.pex.AddPeerFlags(p.listen, pexFlags(p))
		}
	}
}

func (t *Torrent) pexDrop(p *peer) {
	a := p.listenAddr()
	if !a.IsValid() {
		return
	}
	for q := range t.peers {
		if q.pex != nil {
			q.pex.DropPeer(a)
		}
	}
	if !p.incoming {
		// Worth trying again later.
		if _, ok := t.known[a]; !ok && !t.isBanned(a, p.peerID) {
			t.known[a] = &knownPeer{next: time.Now().Add(reconnectWait)}
		}
	}
}

// waitMetadata waits, in the background, for the fetcher of a magnet link
// (made with the torrent, so that no peer misses it) to assemble the
// metadata, and hands it to the loop. It runs once, when the loop starts.
func (t *Torrent) waitMetadata() {
	f := t.fetcher
	t.bg.Add(1)
	go func() {
		defer t.bg.Done()
		info, err := f.Wait(t.ctx)
		if err != nil {
			return
		}
		t.post(func() { t.gotMetadata(info) })
	}()
}

// gotMetadata switches a magnet torrent to a full one.
func (t *Torrent) gotMetadata(infoBytes []byte) {
	if t.meta.Load() != nil {
		return
	}
	info, err := metainfo.ParseInfo(infoBytes)
	if err != nil {
		t.fail(fmt.Errorf("bt: metadata from peers: %w", err))
		return
	}
	mi := &metainfo.MetaInfo{Info: *info, InfoBytes: infoBytes, InfoHash: t.infoHash}
	if t.magnet != nil && len(t.magnet.Trackers) > 0 {
		mi.Announce = t.magnet.Trackers[0]
		for _, tr := range t.magnet.Trackers {
			mi.AnnounceList = append(mi.AnnounceList, []string{tr})
		}
	}
	if err := t.activate(mi); err != nil {
		t.fail(err)
		return
	}
	m := t.meta.Load()
	for p := range t.peers {
		p.conn.SetTorrentSize(m.layout.PieceLength, m.layout.TotalLength)
		bf := p.conn.PeerPieces()
		if bf.Len() == m.layout.NumPieces {
			t.peerBitfield(p, bf.Bytes())
		}
		if p.dhtPort != 0 {
			t.peerDHTPort(p, p.dhtPort)
			p.dhtPort = 0
		}
	}
	t.emit(Event{Type: EventMetadata})
	if t.state != Stopped {
		st := t.state
		t.state = Stopped
		t.changeState(st)
	}
}
