package bt

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/wire"
)

// rawFrame is one message frame: length, id, payload.
func rawFrame(id wire.MessageType, ints ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+4*len(ints)))
	b = append(b, byte(id))
	for _, v := range ints {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// TestDuplicateRequestsBounded is the upload amplification attack on a
// seeding client: a choked peer asks for the first block of each of its
// allowed-fast pieces 80 times. Each block goes out at most twice and the
// peer is disconnected; before, every request was answered (800 blocks).
func TestDuplicateRequestsBounded(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000)
	mi := makeTorrent(t, src, 16<<10) // 25 one-block pieces
	s, _ := seedTorrent(t, Config{}, mi, dir)

	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port()), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	hs := wire.Handshake{InfoHash: mi.InfoHash}
	hs.Reserved.SetFast(true)
	copy(hs.PeerID[:], "-XX0001-duplicates!!")
	if err := wire.WriteHandshake(nc, hs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if _, err := wire.ReadHandshake(br); err != nil {
		t.Fatal(err)
	}
	nc.Write(rawFrame(wire.MsgHaveNone))

	blockLen := func(i uint32) uint32 { return uint32(min(16<<10, 400_000-int(i)*(16<<10))) }
	// Once the allowed-fast set is granted, ask for each of its blocks,
	// take the answers, then ask 79 times more for each in one burst.
	const repeats = 80
	var fast []uint32
	sent := map[uint32]int{}
	requested, answered := 0, 0
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Logf("connection ended: %v", err)
			break
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(br, body); err != nil {
			t.Logf("connection ended: %v", err)
			break
		}
		if len(body) == 0 {
			continue
		}
		switch wire.MessageType(body[0]) {
		case wire.MsgAllowedFast:
			fast = append(fast, binary.BigEndian.Uint32(body[1:]))
			if len(fast) == allowedFastCount {
				var b []byte
				for _, i := range fast {
					b = append(b, rawFrame(wire.MsgRequest, i, 0, blockLen(i))...)
				}
				requested += len(fast)
				nc.Write(b)
			}
		case wire.MsgPiece:
			sent[binary.BigEndian.Uint32(body[1:])]++
			if answered++; answered == len(fast) {
				var burst []byte
				for range repeats - 1 {
					for _, i := range fast {
						burst = append(burst, rawFrame(wire.MsgRequest, i, 0, blockLen(i))...)
					}
				}
				requested += len(burst) / 17
				go nc.Write(burst)
			}
		}
	}
	total := 0
	for i, n := range sent {
		if n > 2 {
			t.Errorf("block of piece %d sent %d times", i, n)
		}
		total += n
	}
	t.Logf("%d requests for %d blocks answered with %d blocks", requested, requested/repeats, total)
	if total < allowedFastCount || total > 2*allowedFastCount {
		t.Errorf("%d blocks sent, want each of the %d once or twice", total, allowedFastCount)
	}
}
