package mse_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire/mse"
)

// TestLibtorrentOnTheWire checks the handshake byte for byte against
// libtorrent with encryption forced to RC4, both ways: our initiator's
// initial payload reaches it and its answer decrypts to its BitTorrent
// handshake and a well-formed first message; its initiator's handshake
// decrypts on our receiving side, found among our torrents by SKEY.
func TestLibtorrentOnTheWire(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	peertest.WriteRandomFile(t, filepath.Join(dir, "data.bin"), 100_000)
	raw, ihHex := peertest.CreateTorrent(t, filepath.Join(dir, "data.bin"), peertest.CreateOptions{PieceSize: 16 << 10, V1Only: true})
	file := filepath.Join(dir, "data.torrent")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	var ih [20]byte
	hex.Decode(ih[:], []byte(ihHex))
	lt := peertest.StartLibtorrent(t, map[string]any{"out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": 2})
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: dir, SeedMode: true})

	t.Run("we dial", func(t *testing.T) {
		nc, err := net.Dial("tcp", lt.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		c := mse.Client(nc, &mse.Config{SKey: ih, Methods: mse.RC4})
		if _, err := c.Write(handshake(ih)); err != nil {
			t.Fatal(err)
		}
		checkPeer(t, c, ih)
	})
	t.Run("libtorrent dials", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		lt.ConnectPeer(t, ihHex, ln.Addr().String())
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		other := [20]byte{9}
		byHash := map[[20]byte][20]byte{mse.SKeyHash(other): other, mse.SKeyHash(ih): ih}
		c, err := mse.Server(context.Background(), nc, &mse.Config{
			Find: func(h [20]byte) ([20]byte, bool) { k, ok := byHash[h]; return k, ok },
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.SKey() != ih || c.Plain() {
			t.Fatalf("skey %x, plain %v", c.SKey(), c.Plain())
		}
		if _, err := c.Write(handshake(ih)); err != nil {
			t.Fatal(err)
		}
		checkPeer(t, c, ih)
	})
}

func handshake(ih [20]byte) []byte {
	b := append([]byte("\x13BitTorrent protocol"), 0, 0, 0, 0, 0, 0x10, 0, 0x04) // extension protocol, fast
	b = append(b, ih[:]...)
	return append(b, "-BT0010-mse-test-123"...)
}

// checkPeer reads libtorrent's handshake and the length of its first
// message through c, which must have chosen RC4.
func checkPeer(t *testing.T, c *mse.Conn, ih [20]byte) {
	t.Helper()
	var hs [68]byte
	if _, err := io.ReadFull(c, hs[:]); err != nil {
		t.Fatal(err)
	}
	if string(hs[:20]) != "\x13BitTorrent protocol" || [20]byte(hs[28:48]) != ih {
		t.Fatalf("handshake %q", hs)
	}
	var n [5]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		t.Fatal(err)
	}
	if l := binary.BigEndian.Uint32(n[:4]); l == 0 || l > 1<<20 || n[4] > 20 {
		t.Fatalf("first message: length %d, id %d", l, n[4])
	}
	if c.Method() != mse.RC4 {
		t.Fatalf("method %v", c.Method())
	}
	t.Logf("libtorrent's peer id %q, first message id %d, stream %v", hs[48:56], n[4], c.Method())
}
