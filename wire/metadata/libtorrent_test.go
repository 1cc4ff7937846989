package metadata_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

// makeTorrent creates a v1 torrent of a random file with libtorrent and
// returns the directory holding the data, the .torrent's path, its info
// dictionary and its info hash.
func makeTorrent(t *testing.T, size int64, pieceSize int) (dir, torrentPath string, info []byte, ih [20]byte) {
	t.Helper()
	dir = t.TempDir()
	data := filepath.Join(dir, "payload.bin")
	peertest.WriteRandomFile(t, data, size)
	torrent, ihHex := peertest.CreateTorrent(t, data, peertest.CreateOptions{V1Only: true, PieceSize: pieceSize})
	torrentPath = filepath.Join(t.TempDir(), "t.torrent")
	if err := os.WriteFile(torrentPath, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	var mi struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal(torrent, &mi); err != nil {
		t.Fatal(err)
	}
	ih = sha1.Sum(mi.Info)
	if hex.EncodeToString(ih[:]) != ihHex {
		t.Fatalf("info hash %x, libtorrent says %s", ih, ihHex)
	}
	return dir, torrentPath, mi.Info, ih
}

func peerID(b byte) (id [20]byte) {
	copy(id[:], "-BT0001-metadatatest")
	id[19] = b
	return id
}

// TestFetchFromLibtorrent fetches the info dictionary from a libtorrent seed
// knowing only the info hash, as for a magnet link.
func TestFetchFromLibtorrent(t *testing.T) {
	lt := peertest.StartLibtorrent(t, nil)
	// Small pieces make a long info dictionary: 16 MiB in 16 KiB pieces is
	// 1024 hashes, 20 KiB, so two metadata pieces, the last one short.
	dir, torrentPath, info, ih := makeTorrent(t, 16<<20, 16<<10)
	if n := len(info); n <= metadata.PieceSize {
		t.Fatalf("info is %d bytes, want more than one metadata piece", n)
	}
	ihHex := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: dir, SeedMode: true})
	// libtorrent hangs up on incoming connections until the torrent runs.
	lt.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.State == "seeding" })

	f := metadata.NewFetcher(ih, metadata.FetcherConfig{})
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, lt.Addr(), &wire.Config{InfoHash: ih, PeerID: peerID(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close(); <-c.Done() }()
	c.Use(metadata.New(metadata.Config{Fetcher: f}))
	start := time.Now()
	if err := c.Start(wire.Funcs{}); err != nil {
		t.Fatal(err)
	}
	parsed, got, err := f.WaitInfo(ctx)
	if err != nil {
		t.Fatalf("fetching metadata from libtorrent %s: %v (status %+v)", ihHex, err, lt.Status(t, ihHex))
	}
	if parsed.Name != "payload.bin" || parsed.TotalLength() != 16<<20 || parsed.PieceLength != 16<<10 {
		t.Errorf("parsed info: name %q, length %d, piece length %d", parsed.Name, parsed.TotalLength(), parsed.PieceLength)
	}
	t.Logf("fetched %d bytes of metadata in %v", len(got), time.Since(start))
	if !bytes.Equal(got, info) {
		t.Fatal("fetched metadata differs from the torrent's info dictionary")
	}
	if h := c.PeerExtendedHandshake(); h == nil || h.MetadataSize != int64(len(info)) {
		t.Errorf("libtorrent's extended handshake: %+v", h)
	}
}

// TestLibtorrentFetchesFromUs gives libtorrent a magnet link and our
// address; it must get the metadata from us.
func TestLibtorrentFetchesFromUs(t *testing.T) {
	// libtorrent tries uTP first when it dials, and falls back to TCP only
	// after about 4 s; we have no uTP.
	lt := peertest.StartLibtorrent(t, map[string]any{"enable_outgoing_utp": false})
	_, _, info, ih := makeTorrent(t, 8<<20, 16<<10)

	served := make(chan *wire.Conn, 4)
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(h wire.Handshake, _ net.Addr) *wire.Config {
			return &wire.Config{InfoHash: ih, PeerID: peerID(2)}
		},
		Connected: func(c *wire.Conn) {
			c.Use(metadata.New(metadata.Config{Info: info}))
			if err := c.Start(wire.Funcs{}); err == nil {
				served <- c
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	ihHex := lt.AddTorrent(t, peertest.AddTorrent{Magnet: "magnet:?xt=urn:btih:" + hex.EncodeToString(ih[:]), SavePath: t.TempDir()})
	if lt.Status(t, ihHex).HasMetadata {
		t.Fatal("libtorrent has the metadata before connecting to us")
	}
	start := time.Now()
	lt.ConnectPeer(t, ihHex, ln.Addr().String())
	lt.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.HasMetadata })
	t.Logf("libtorrent got %d bytes of metadata from us in %v", len(info), time.Since(start))
	if got := lt.InfoBytes(t, ihHex); !bytes.Equal(got, info) {
		t.Errorf("libtorrent's info dictionary differs from ours (%d vs %d bytes)", len(got), len(info))
	}
	var mi struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal(lt.TorrentFile(t, ihHex), &mi); err != nil || sha1.Sum(mi.Info) != ih {
		t.Errorf("libtorrent's torrent file: %v, info hash %x, want %x", err, sha1.Sum(mi.Info), ih)
	}
	select {
	case c := <-served:
		c.Close()
		<-c.Done()
	default:
		t.Error("no connection reached our listener")
	}
}
