package wire

import (
	"testing"
	"time"
)

// gated is a recorder whose WaitRead holds the reader until open closes.
type gated struct {
	*recorder
	open chan struct{}
}

func (g gated) WaitRead(c *Conn) {
	select {
	case <-g.open:
	case <-c.Closing():
	}
}

// TestReadWaiterHoldsOnlyTheReader: while a ReadWaiter holds the reader,
// nothing more from the peer is handled, but the writer goes on sending
// keep-alives; once released, the waiting message is handled.
func TestReadWaiterHoldsOnlyTheReader(t *testing.T) {
	c, _, raw := startRawOpts(t, testConfig('g'), allReserved(), false)
	g := gated{newRecorder(), make(chan struct{})}
	c.SetKeepAlive(20 * time.Millisecond)
	if err := c.Start(g); err != nil {
		t.Fatal(err)
	}
	// net.Pipe has no buffer: the write waits for the reader.
	wrote := make(chan struct{})
	go func() { raw.write(t, frame(byte(MsgInterested))); close(wrote) }()
	keepAlives := 0
	timeout := time.After(10 * time.Second)
	for keepAlives < 3 {
		select {
		case f := <-raw.frames:
			if len(f) == 0 {
				keepAlives++
			}
		case <-timeout:
			t.Fatalf("%d keep-alives while the reader waits", keepAlives)
		}
	}
	select {
	case m := <-g.msgs:
		t.Fatalf("%v handled while the reader waits", m.Type)
	default:
	}
	close(g.open)
	g.next(t, MsgInterested)
	<-wrote
}
