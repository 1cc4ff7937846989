package wire

import (
	"bytes"
	"testing"
	"time"
)

// TestDuplicateRequestsNotMultiplied is the upload amplification attack: a
// choked peer asks for the blocks of its allowed-fast pieces 80 times each.
// Each block is sent at most twice (the second for a peer whose piece
// failed its hash), and the peer is disconnected.
func TestDuplicateRequestsNotMultiplied(t *testing.T) {
	c, rec, raw := startRawOpts(t, testConfig('d'), allReserved(), false)
	block := make([]byte, BlockSize)
	rec.onMsg = func(c *Conn, m *Message) {
		if m.Type == MsgRequest {
			c.Piece(m.Index, m.Begin, block[:m.Length]) // served at once, as the engine does
		}
	}
	if err := c.Start(rec); err != nil {
		t.Fatal(err)
	}
	const pieces, repeats = 9, 80 // piece 9 is short; keep to full blocks
	for i := range pieces {
		c.AllowedFast(i)
	}
	// One honest round first, answered in full, then the repeats in one
	// burst.
	var burst bytes.Buffer
	for i := range pieces {
		raw.send(t, 6, u32s(uint32(i), 0, BlockSize)...)
	}
	sent := map[int]int{}
	count := func(f []byte) {
		if len(f) > 0 && MessageType(f[0]) == MsgPiece {
			sent[int(f[1])<<24|int(f[2])<<16|int(f[3])<<8|int(f[4])]++
		}
	}
	for range pieces {
		count(raw.next(t, MsgPiece))
	}
	for range repeats - 1 {
		for i := range pieces {
			burst.Write(frame(6, u32s(uint32(i), 0, BlockSize)...))
		}
	}
	go raw.write(t, burst.Bytes())
	closedWith(t, c, rec, ErrDuplicateRequests)
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case f, ok := <-raw.frames:
			done = !ok
			count(f)
		case <-timeout:
			t.Fatal("raw peer still open")
		}
	}
	total := 0
	for i, n := range sent {
		if n > 2 {
			t.Errorf("block of piece %d sent %d times", i, n)
		}
		total += n
	}
	t.Logf("%d requests (%d distinct) answered with %d blocks", pieces*repeats, pieces, total)
	if total < pieces || total > 2*pieces {
		t.Errorf("%d blocks sent for %d distinct requests", total, pieces)
	}
}

// TestCancelThenRequestAgain: a request canceled before it was served may
// be made again, and cancels of unknown requests are ignored.
func TestCancelThenRequestAgain(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('e'), allReserved())
	c.Unchoke()
	for i := range 500 {
		raw.send(t, 8, u32s(uint32(i%10), 0, BlockSize)...) // nothing to cancel
	}
	for range 3 {
		raw.send(t, 6, u32s(1, 0, BlockSize)...)
		if m := rec.next(t, MsgRequest); m.Index != 1 {
			t.Fatalf("request %+v", m)
		}
		raw.send(t, 8, u32s(1, 0, BlockSize)...)
		raw.next(t, MsgReject) // BEP 6: the canceled request is answered
	}
	raw.send(t, 6, u32s(2, 0, BlockSize)...)
	rec.next(t, MsgRequest)
	if err := c.Piece(2, 0, make([]byte, BlockSize)); err != nil {
		t.Fatal(err)
	}
	raw.next(t, MsgPiece)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}
