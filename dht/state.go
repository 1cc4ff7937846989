package dht

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bt-go/bt/dht/internal/krpc"
	"github.com/bt-go/bt/internal/readlimit"
)

// The state file holds our id and the nodes of our routing tables, so a
// restart rejoins the DHT through them rather than through the bootstrap
// nodes alone. Format (all integers big-endian):
//
//	"BTDHT1\n"  magic
//	[20]byte    our id
//	uint16 n4, then n4 compact IPv4 node infos (26 bytes each)
//	uint16 n6, then n6 compact IPv6 node infos (38 bytes each)
//
// Loading checks the exact size, the counts (at most maxSavedNodes each) and
// every address; saved nodes are only contacted, never trusted: they enter
// the routing table when they answer.
const (
	stateMagic    = "BTDHT1\n"
	maxSavedNodes = 2048
	maxStateSize  = len(stateMagic) + 20 + 2 + maxSavedNodes*krpc.NodeLen4 + 2 + maxSavedNodes*krpc.NodeLen6
)

var errBadState = errors.New("dht: malformed state file")

type savedState struct {
	id    ID
	nodes []krpc.NodeInfo
}

func (s *Server) saveState() error {
	s.mu.Lock()
	var n4, n6 []krpc.NodeInfo
	for _, n := range s.t4.all() {
		n4 = append(n4, krpc.NodeInfo{ID: n.id, Addr: n.addr})
	}
	for _, n := range s.t6.all() {
		n6 = append(n6, krpc.NodeInfo{ID: n.id, Addr: n.addr})
	}
	id := s.id
	s.mu.Unlock()
	n4, n6 = n4[:min(len(n4), maxSavedNodes)], n6[:min(len(n6), maxSavedNodes)]
	b := []byte(stateMagic)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(n4)))
	b = krpc.AppendNodes(b, n4)
	b = binary.BigEndian.AppendUint16(b, uint16(len(n6)))
	b = krpc.AppendNodes(b, n6)
	return writeFileAtomic(s.cfg.StateFile, b)
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("dht: saving state: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("dht: saving state: %w", err)
	}
	return nil
}

func loadState(path string) (*savedState, error) {
	b, err := readlimit.File(path, int64(maxStateSize))
	if errors.Is(err, readlimit.ErrTooLarge) {
		return nil, errBadState
	}
	if err != nil {
		return nil, err
	}
	return parseState(b)
}

func parseState(b []byte) (*savedState, error) {
	if len(b) > maxStateSize || !bytes.HasPrefix(b, []byte(stateMagic)) {
		return nil, errBadState
	}
	b = b[len(stateMagic):]
	if len(b) < 20 {
		return nil, errBadState
	}
	st := &savedState{id: ID(b[:20])}
	b = b[20:]
	for _, size := range []int{krpc.NodeLen4, krpc.NodeLen6} {
		if len(b) < 2 {
			return nil, errBadState
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > maxSavedNodes || len(b) < n*size {
			return nil, errBadState
		}
		nodes, _ := krpc.ParseNodes(b[:n*size], size)
		b = b[n*size:]
		for _, nd := range nodes {
			if validAddr(nd.Addr) && nd.Addr.Addr().Is6() == (size == krpc.NodeLen6) && ID(nd.ID) != st.id {
				st.nodes = append(st.nodes, nd)
			}
		}
	}
	if len(b) != 0 {
		return nil, errBadState
	}
	return st, nil
}
