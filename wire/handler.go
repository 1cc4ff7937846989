package wire

import "fmt"

// Handler receives what a connection reports. Its methods run on the
// connection's goroutines, one call at a time for a given Conn, and must
// not block for long: hand slow work (disk reads) to another goroutine and
// answer later (Conn.Piece is safe from any goroutine). A blocked call
// holds up the writer's events too; to stop reading for a while, implement
// ReadWaiter instead. A Handler may call
// any method of the Conn, Close included, but must not wait for Done.
type Handler interface {
	// HandleMessage is called for each message from the peer, after the
	// Conn has applied it to its state. m is valid only during the call.
	HandleMessage(c *Conn, m *Message)
	// HandleEvent is called for the other events of the connection.
	HandleEvent(c *Conn, e Event)
}

// A ReadWaiter is a Handler that can hold the connection's reader back, for
// back-pressure: WaitRead is called on the reader goroutine before each
// message is read, with no lock of the Conn held and outside any Handler
// call. While it blocks, nothing more is read from the peer (TCP holds the
// peer back) but the writer goes on: keep-alives, queued messages, request
// time-outs. It should return once Closing is closed.
type ReadWaiter interface {
	Handler
	WaitRead(c *Conn)
}

// EventType says what an Event reports.
type EventType int

// The events of a connection.
const (
	// EventDownload: a requested block arrived; Bytes is its length.
	EventDownload EventType = iota + 1
	// EventUpload: piece data was written to the peer; Bytes is its length
	// (the blocks of one write together).
	EventUpload
	// EventTimeout: the head request timed out; Request says which.
	EventTimeout
	// EventWaste: a piece message we had not requested (or no longer
	// wanted) was dropped; Request says which, Bytes its length.
	EventWaste
	// EventClose: the connection ended; Err is why (nil after Close).
	// It is the last call a Handler gets.
	EventClose
)

func (t EventType) String() string {
	switch t {
	case EventDownload:
		return "download"
	case EventUpload:
		return "upload"
	case EventTimeout:
		return "timeout"
	case EventWaste:
		return "waste"
	case EventClose:
		return "close"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is a connection event other than a message.
type Event struct {
	Type    EventType
	Request Request
	Bytes   int
	Err     error
}

// Funcs adapts functions to a Handler; a nil function ignores its calls.
type Funcs struct {
	Message func(c *Conn, m *Message)
	Event   func(c *Conn, e Event)
}

// HandleMessage calls f.Message.
func (f Funcs) HandleMessage(c *Conn, m *Message) {
	if f.Message != nil {
		f.Message(c, m)
	}
}

// HandleEvent calls f.Event.
func (f Funcs) HandleEvent(c *Conn, e Event) {
	if f.Event != nil {
		f.Event(c, e)
	}
}
