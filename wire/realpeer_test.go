package wire_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
)

// torrentInfo is what these tests need of a single-file .torrent.
type torrentInfo struct {
	InfoHash    [20]byte
	Name        string
	PieceLength int64
	Length      int64
	Pieces      []byte
}

func (ti *torrentInfo) numPieces() int { return len(ti.Pieces) / 20 }

func (ti *torrentInfo) pieceSize(i int) int64 {
	if i == ti.numPieces()-1 {
		return ti.Length - int64(i)*ti.PieceLength
	}
	return ti.PieceLength
}

func parseTorrent(t *testing.T, data []byte) *torrentInfo {
	t.Helper()
	var top struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	var info struct {
		Name        string `bencode:"name"`
		PieceLength int64  `bencode:"piece length"`
		Length      int64  `bencode:"length"`
		Pieces      []byte `bencode:"pieces"`
	}
	if err := bencode.Unmarshal(top.Info, &info); err != nil {
		t.Fatal(err)
	}
	return &torrentInfo{InfoHash: sha1.Sum(top.Info), Name: info.Name, PieceLength: info.PieceLength,
		Length: info.Length, Pieces: info.Pieces}
}

func randomPeerID() [20]byte {
	var id [20]byte
	copy(id[:], "-BT0001-")
	rand.Read(id[8:])
	return id
}

// makeTorrent writes a random file of size bytes and a v1 torrent of it.
func makeTorrent(t *testing.T, dir string, size int64, pieceSize int) (data, torrentFile string, ti *torrentInfo) {
	t.Helper()
	data = filepath.Join(dir, "seed", "data.bin")
	peertest.WriteRandomFile(t, data, size)
	tb, ihHex := peertest.CreateTorrent(t, data, peertest.CreateOptions{PieceSize: pieceSize, V1Only: true})
	torrentFile = filepath.Join(dir, "data.torrent")
	if err := os.WriteFile(torrentFile, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	ti = parseTorrent(t, tb)
	if hex.EncodeToString(ti.InfoHash[:]) != ihHex {
		t.Fatalf("info hash %x, libtorrent says %s", ti.InfoHash, ihHex)
	}
	return data, torrentFile, ti
}

// TestDownloadPieceFromLibtorrent connects to a libtorrent seed using only
// package wire, downloads whole pieces and checks their SHA-1.
func TestDownloadPieceFromLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	t.Parallel()
	dir := t.TempDir()
	data, tf, ti := makeTorrent(t, dir, 5*65536+12345, 65536)
	lt := peertest.StartLibtorrent(t, nil)
	// Not SeedMode: with it the libtorrent 2.0.8 driver died now and then
	// ("terminate called without an active exception"); checking this small
	// file takes a moment.
	ih := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: tf, SavePath: filepath.Dir(data)})
	lt.WaitStatus(t, ih, 30*time.Second, func(s peertest.Status) bool { return s.IsSeeding })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := &wire.Config{InfoHash: ti.InfoHash, PeerID: randomPeerID(), PieceLength: ti.PieceLength, TotalLength: ti.Length}
	c, err := wire.Dial(ctx, lt.Addr(), cfg)
	if err != nil {
		for _, a := range lt.Alerts() {
			t.Logf("libtorrent alert: %+v", a)
		}
		t.Fatal(err)
	}
	defer func() { c.Close(); <-c.Done() }()
	if !c.PeerHandshake().Reserved.Extended() || !c.PeerHandshake().Reserved.Fast() {
		t.Fatalf("libtorrent's reserved bits %v", c.PeerHandshake().Reserved)
	}
	if !startAndWaitPieces(t, c) {
		t.Fatal("the seed does not have every piece")
	}
	waitfor.Cond(t, 30*time.Second, "libtorrent's extended handshake", func() bool { return c.PeerExtendedHandshake() != nil })
	eh := c.PeerExtendedHandshake()
	t.Logf("libtorrent: v=%q reqq=%d m=%v yourip=%v", eh.V, eh.Reqq, eh.M, net.IP(eh.YourIP))
	if eh.M["ut_metadata"] == 0 || eh.MetadataSize <= 0 {
		t.Errorf("libtorrent's extended handshake lacks ut_metadata: %+v", eh)
	}
	downloadPieces(t, c, ti, []int{0, ti.numPieces() - 1})
	if s := c.Stats(); s.PayloadDownloaded != ti.PieceLength+ti.pieceSize(ti.numPieces()-1) {
		t.Fatalf("stats %+v", s)
	}
}

// TestLibtorrentDownloadsFromListener has libtorrent connect to a wire
// Listener and download a whole torrent from our responder.
func TestLibtorrentDownloadsFromListener(t *testing.T) {
	peertest.RequireLibtorrent(t)
	t.Parallel()
	start := time.Now()
	dir := t.TempDir()
	data, tf, ti := makeTorrent(t, dir, 3<<20+777, 256<<10)
	t.Logf("%v: torrent made", time.Since(start))
	f, err := os.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	serve := func(c *wire.Conn, m *wire.Message) {
		switch m.Type {
		case wire.MsgInterested:
			c.Unchoke()
		case wire.MsgRequest:
			block := make([]byte, m.Length)
			if _, err := f.ReadAt(block, int64(m.Index)*ti.PieceLength+int64(m.Begin)); err != nil {
				c.Reject(m.Index, m.Begin, m.Length)
				return
			}
			c.Piece(m.Index, m.Begin, block)
		}
	}
	var connsMu sync.Mutex
	var conns []*wire.Conn
	l, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(peer wire.Handshake, remote net.Addr) *wire.Config {
			if peer.InfoHash != ti.InfoHash {
				return nil
			}
			return &wire.Config{InfoHash: ti.InfoHash, PeerID: randomPeerID(), PieceLength: ti.PieceLength, TotalLength: ti.Length}
		},
		Connected: func(c *wire.Conn) {
			t.Logf("%v: libtorrent connected from %v (reserved %v)", time.Since(start), c.RemoteAddr(), c.PeerHandshake().Reserved)
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			if c.SupportsFast() {
				c.HaveAll()
			} else {
				c.Bitfield(fullBitfield(ti.numPieces()))
			}
			c.Start(wire.Funcs{Message: serve})
		},
		Error: func(err error) { t.Log(err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.Close()
		connsMu.Lock()
		defer connsMu.Unlock()
		for _, c := range conns {
			c.Close()
			<-c.Done()
		}
	}()

	// Plain connections only: libtorrent would otherwise try an encrypted
	// handshake (MSE) first, which we refuse, and retry later; and it would
	// try uTP first, which waits for a time-out before falling back to TCP.
	lt := peertest.StartLibtorrent(t, map[string]any{"out_enc_policy": 2, "in_enc_policy": 2, "enable_outgoing_utp": false})
	ih := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: tf, SavePath: filepath.Join(dir, "leech")})
	lt.WaitStatus(t, ih, 30*time.Second, func(s peertest.Status) bool { return s.State == "downloading" })
	t.Logf("%v: libtorrent started", time.Since(start))
	lt.ConnectPeer(t, ih, l.Addr().String())
	s := lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool { return s.Progress == 1 })
	t.Logf("%v: libtorrent finished", time.Since(start))
	peertest.WaitSameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"), 20*time.Second)
	connsMu.Lock()
	up := conns[0].Stats()
	connsMu.Unlock()
	t.Logf("libtorrent status %+v; our stats %+v", s, up)
	if up.PayloadUploaded < ti.Length {
		t.Fatalf("uploaded %d of %d", up.PayloadUploaded, ti.Length)
	}
}

// pieceWatch records what a test waits for.
type pieceWatch struct {
	mu                 sync.Mutex
	gotPieces, unchoke bool
}

func (w *pieceWatch) handle(c *wire.Conn, m *wire.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch m.Type {
	case wire.MsgHaveAll, wire.MsgBitfield:
		w.gotPieces = true
	case wire.MsgUnchoke:
		w.unchoke = true
	}
}

func (w *pieceWatch) flag(p *bool) func() bool {
	return func() bool { w.mu.Lock(); defer w.mu.Unlock(); return *p }
}

var watches sync.Map // *wire.Conn → *pieceWatch

// startAndWaitPieces sends have-none (or nothing without Fast), starts c,
// waits for the peer's pieces and reports whether it has them all.
func startAndWaitPieces(t *testing.T, c *wire.Conn) bool {
	t.Helper()
	w := &pieceWatch{}
	watches.Store(c, w)
	if c.SupportsFast() {
		c.HaveNone()
	}
	if err := c.Start(wire.Funcs{Message: w.handle}); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 30*time.Second, "the peer's have-all or bitfield", w.flag(&w.gotPieces))
	return c.PeerPieces().All()
}

// downloadAll downloads every piece with downloadPieces and checks that
// the payload counted is the torrent's length.
func downloadAll(t *testing.T, c *wire.Conn, ti *torrentInfo) {
	t.Helper()
	all := make([]int, ti.numPieces())
	for i := range all {
		all[i] = i
	}
	downloadPieces(t, c, ti, all)
	if got := c.Downloaded(); got != ti.Length {
		t.Fatalf("downloaded %d of %d", got, ti.Length)
	}
}

// downloadPieces gets unchoked and downloads the given pieces block by
// block, checking each piece's SHA-1.
func downloadPieces(t *testing.T, c *wire.Conn, ti *torrentInfo, pieces []int) {
	t.Helper()
	v, _ := watches.Load(c)
	w := v.(*pieceWatch)
	c.Interested()
	start := time.Now()
	waitfor.Cond(t, 30*time.Second, "unchoke", w.flag(&w.unchoke))
	t.Logf("unchoked after %v", time.Since(start))
	// Every block is requested at once: a pipeline, as real clients do
	// (Transmission answers in rounds of its bandwidth timer).
	bufs := make([][]byte, len(pieces))
	var wg sync.WaitGroup
	for i, piece := range pieces {
		size := int(ti.pieceSize(piece))
		buf := make([]byte, size)
		bufs[i] = buf
		for begin := 0; begin < size; begin += wire.BlockSize {
			n := min(wire.BlockSize, size-begin)
			wg.Add(1)
			err := c.Request(piece, begin, n, func(block []byte, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("block %d+%d: %v", piece, begin, err)
					return
				}
				copy(buf[begin:], block)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	for i, piece := range pieces {
		sum := sha1.Sum(bufs[i])
		if !bytes.Equal(sum[:], ti.Pieces[20*piece:20*piece+20]) {
			t.Fatalf("piece %d: SHA-1 mismatch", piece)
		}
	}
}

// TestDownloadFromTransmission dials a Transmission seed and downloads
// every piece with package wire alone.
func TestDownloadFromTransmission(t *testing.T) {
	peertest.RequireCommand(t, "transmission-cli")
	t.Parallel()
	dir := t.TempDir()
	data, tf, ti := makeTorrent(t, dir, 300_000, 32768)
	start := time.Now()
	tr := peertest.StartTransmission(t, peertest.TransmissionOptions{TorrentFile: tf, Dir: filepath.Dir(data)})
	t.Logf("%v: transmission started", time.Since(start))
	cfg := &wire.Config{InfoHash: ti.InfoHash, PeerID: randomPeerID(), PieceLength: ti.PieceLength, TotalLength: ti.Length}
	// Transmission unchokes new peers at its next rechoke, up to 10 s later.
	// It loads the torrent and verifies the data before it
	// seeds: until then it resets connections or announces fewer pieces, so
	// reconnect until it has them all.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := wire.Dial(ctx, tr.Addr, cfg)
		cancel()
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if startAndWaitPieces(t, c) {
			t.Logf("%v: transmission has every piece", time.Since(start))
			h := c.PeerHandshake()
			t.Logf("transmission: reserved %v, peer id %q, fast %v", h.Reserved, h.PeerID[:8], c.SupportsFast())
			downloadAll(t, c, ti)
			t.Logf("%v: downloaded", time.Since(start))
			c.Close()
			<-c.Done()
			return
		}
		c.Close()
		<-c.Done()
		if time.Now().After(deadline) {
			t.Fatal("transmission never had every piece")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDownloadFromAria2 dials an aria2 seed and downloads every piece with
// package wire alone.
func TestDownloadFromAria2(t *testing.T) {
	peertest.RequireCommand(t, "aria2c")
	t.Parallel()
	dir := t.TempDir()
	data, tf, ti := makeTorrent(t, dir, 200_000, 16384)
	a := peertest.StartAria2(t, peertest.Aria2Options{TorrentFile: tf, Dir: filepath.Dir(data), Seed: true})
	cfg := &wire.Config{InfoHash: ti.InfoHash, PeerID: randomPeerID(), PieceLength: ti.PieceLength, TotalLength: ti.Length}
	start := time.Now()
	var c *wire.Conn
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		c, err = wire.Dial(ctx, a.Addr, cfg)
		cancel()
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer func() { c.Close(); <-c.Done() }()
	if !startAndWaitPieces(t, c) {
		t.Fatal("aria2 does not have every piece")
	}
	h := c.PeerHandshake()
	t.Logf("aria2: reserved %v, peer id %q", h.Reserved, h.PeerID[:8])
	downloadAll(t, c, ti)
	t.Logf("%v: downloaded", time.Since(start))
}
