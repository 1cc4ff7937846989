package bt

import (
	"fmt"
	"net/netip"
	"sync"
)

// EventType says what an Event reports.
type EventType int

// The events of a torrent.
const (
	// EventHashPass: piece Piece passed its hash check (downloaded or
	// checked on disk). The seed's on_hash_pass.
	EventHashPass EventType = iota + 1
	// EventHashFail: piece Piece failed its hash check. The seed's
	// on_hash_fail.
	EventHashFail
	// EventMetadata: the info dictionary of a magnet link arrived.
	EventMetadata
	// EventComplete: every wanted piece is verified and durable on disk.
	EventComplete
	// EventStateChanged: the torrent was started, paused or stopped; State
	// is the new state.
	EventStateChanged
	// EventPeerBanned: the peer at Peer sent corrupt data and was banned;
	// Err says why.
	EventPeerBanned
	// EventError: the torrent stopped because of Err (a storage error).
	EventError
	// EventCheckDone: a hash check started by HashCheck (or at start-up)
	// finished.
	EventCheckDone
	// EventDataMissing: verified piece Piece could not be read back (Err:
	// its file was deleted or truncated); it is marked missing and the
	// torrent is rechecked (see faults.go).
	EventDataMissing
)

func (e EventType) String() string {
	switch e {
	case EventHashPass:
		return "hash pass"
	case EventHashFail:
		return "hash fail"
	case EventMetadata:
		return "metadata"
	case EventComplete:
		return "complete"
	case EventStateChanged:
		return "state changed"
	case EventPeerBanned:
		return "peer banned"
	case EventError:
		return "error"
	case EventCheckDone:
		return "check done"
	case EventDataMissing:
		return "data missing"
	}
	return fmt.Sprintf("EventType(%d)", int(e))
}

// Event is something that happened to a torrent. Fields other than Type and
// Torrent are set when the type says so.
type Event struct {
	Type    EventType
	Torrent *Torrent
	Piece   int
	State   State
	Peer    netip.AddrPort
	Err     error
}

// dispatcher delivers events to a callback in order, from a goroutine of
// its own that exists only while events are pending, so that a callback may
// call the Torrent's methods and a slow callback never stalls the engine.
type dispatcher struct {
	fn      func(Event)
	mu      sync.Mutex
	queue   []Event
	running bool
	idle    sync.WaitGroup
}

func (d *dispatcher) emit(e Event) {
	if d.fn == nil {
		return
	}
	d.mu.Lock()
	d.queue = append(d.queue, e)
	if d.running {
		d.mu.Unlock()
		return
	}
	d.running = true
	d.idle.Add(1)
	d.mu.Unlock()
	go d.drain()
}

func (d *dispatcher) drain() {
	defer d.idle.Done()
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		q := d.queue
		d.queue = nil
		d.mu.Unlock()
		for _, e := range q {
			d.fn(e)
		}
	}
}

// wait blocks until every pending event has been delivered.
func (d *dispatcher) wait() { d.idle.Wait() }
