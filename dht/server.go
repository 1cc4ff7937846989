package dht

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
)

// Server is a Mainline DHT node. Its methods are safe for concurrent use.
//
// A Server runs two goroutines: one reads the socket and answers queries, the
// other does periodic maintenance (token rotation, expiry, bucket refresh,
// bootstrap, saving the state file). A lookup runs in the goroutine of the
// call that started it (GetPeers starts one goroutine per call); its queries
// are entries in a table of pending transactions, not goroutines.
type Server struct {
	cfg      Config
	conn     net.PacketConn
	udp      *net.UDPConn // conn, if it is one
	local    netip.AddrPort
	v4, v6   bool // address families the socket serves
	log      *slog.Logger
	closing  chan struct{}
	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	closeErr error
	once     sync.Once
	wg       sync.WaitGroup

	mu         sync.Mutex // guards everything below; never held across I/O
	id         ID
	t4, t6     *table
	txns       map[uint16]*txn
	nextTID    uint16
	pings      int                         // outstanding pings of our own
	pingAddrs  map[netip.AddrPort]struct{} // their destinations (one ping per address at a time)
	tok        *tokens
	store      *peerStore
	limit      *rateLimiter
	stats      Stats
	boot       []netip.AddrPort // bootstrap nodes (names resolved)
	wantJoin   bool             // run the join procedure at the next tick
	lastJoin   time.Time
	closed     bool
	savedNodes []krpc.NodeInfo // from the state file: contacted when the table is small
}

// txn is an outstanding query.
type txn struct {
	addr     netip.AddrPort
	method   string
	deadline time.Time
	ch       chan<- reply // the lookup waiting for it; nil for our own pings
}

// reply is a response or an error response to one of our queries.
type reply struct {
	tid  uint16
	from netip.AddrPort
	msg  *krpc.Msg
}

// New starts a DHT node as cfg says.
func New(cfg Config) (*Server, error) {
	setDefaults(&cfg)
	conn := cfg.PacketConn
	if conn == nil {
		addr := cfg.Addr
		if addr == "" {
			addr = ":0"
		}
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("dht: listen: %w", err)
		}
		conn = c
	}
	now := time.Now()
	s := &Server{
		cfg:       cfg,
		conn:      conn,
		log:       cfg.Logger,
		closing:   make(chan struct{}),
		txns:      make(map[uint16]*txn),
		pingAddrs: make(map[netip.AddrPort]struct{}),
		tok:       newTokens(now),
		store:     newPeerStore(cfg.MaxPeersPerHash, cfg.MaxPeers, cfg.MaxInfoHashes),
		limit:     newRateLimiter(cfg.QueryRate, cfg.QueryBurst, maxRateTracked),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.udp, _ = conn.(*net.UDPConn)
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		s.local = ua.AddrPort()
	}
	ip := s.local.Addr()
	switch {
	case ip.Unmap().Is4():
		s.v4 = true
	case ip.Is6() && ip.IsUnspecified():
		s.v4, s.v6 = true, true
	default:
		s.v6 = true
	}

	var st *savedState
	if cfg.StateFile != "" {
		var err error
		st, err = loadState(cfg.StateFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			// A missing file is the first start, not a problem.
			s.log.Warn("dht: ignoring state file", "file", cfg.StateFile, "err", err)
		}
	}
	switch {
	case cfg.ID != ID{}:
		s.id = cfg.ID
	case st != nil && (!cfg.ExternalIP.IsValid() || IsSecureID(st.id, cfg.ExternalIP)):
		s.id = st.id
	case cfg.ExternalIP.IsValid():
		s.id = SecureID(cfg.ExternalIP)
	default:
		s.id = RandomID()
	}
	s.t4 = newTable(s.id, cfg.K, now)
	s.t6 = newTable(s.id, cfg.K, now)
	if st != nil {
		s.savedNodes = st.nodes
	}
	s.stats.ID = s.id
	s.wantJoin = true
	for _, hp := range cfg.Bootstrap {
		// Literal addresses are usable at once; names are resolved by the
		// maintenance goroutine.
		if ap, err := netip.ParseAddrPort(hp); err == nil {
			s.boot = append(s.boot, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}

	s.wg.Add(2)
	go s.readLoop()
	go s.maintain()
	return s, nil
}

// ID returns our node id.
func (s *Server) ID() ID { return s.id }

// Addr returns the UDP address the Server listens on.
func (s *Server) Addr() netip.AddrPort { return s.local }

// Close stops the Server, saves the routing table if a StateFile is set,
// and waits for its goroutines and running lookups to end.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.cancel()
		s.closeErr = s.conn.Close()
		s.wg.Wait()
		if s.cfg.StateFile != "" {
			if err := s.saveState(); err != nil && s.closeErr == nil {
				s.closeErr = err
			}
		}
	})
	return s.closeErr
}

// readLoop is the only reader of the socket.
func (s *Server) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, readBufferSize)
	for {
		var (
			n    int
			from netip.AddrPort
			err  error
		)
		if s.udp != nil {
			n, from, err = s.udp.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = s.conn.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		if err != nil {
			select {
			case <-s.closing:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("dht: read", "err", err)
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s.handlePacket(buf[:n], from)
	}
}

// send writes b to addr. It never holds the mutex.
func (s *Server) send(b []byte, addr netip.AddrPort) error {
	var err error
	if s.udp != nil {
		_, err = s.udp.WriteToUDPAddrPort(b, addr)
	} else {
		_, err = s.conn.WriteTo(b, net.UDPAddrFromAddrPort(addr))
	}
	s.mu.Lock()
	s.stats.PacketsOut++
	s.stats.BytesOut += uint64(len(b))
	s.mu.Unlock()
	return err
}

// handlePacket dispatches one datagram.
func (s *Server) handlePacket(b []byte, from netip.AddrPort) {
	s.mu.Lock()
	s.stats.PacketsIn++
	s.stats.BytesIn += uint64(len(b))
	s.mu.Unlock()
	if !validAddr(from) {
		return
	}
	m, err := krpc.Parse(b)
	if err != nil {
		s.mu.Lock()
		s.stats.Malformed++
		s.mu.Unlock()
		return
	}
	switch m.Y {
	case krpc.Query:
		s.handleQuery(m, len(b), from)
	default:
		s.handleReply(m, from)
	}
}

// validAddr reports whether addr is one we would talk to: a unicast address
// with a non-zero port.
func validAddr(addr netip.AddrPort) bool {
	ip := addr.Addr()
	return addr.Port() != 0 && ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() &&
		!(ip.Is4() && ip.As4() == [4]byte{255, 255, 255, 255})
}

// handleReply matches a response or error to its transaction.
func (s *Server) handleReply(m *krpc.Msg, from netip.AddrPort) {
	s.mu.Lock()
	var tx *txn
	var tid uint16
	if len(m.T) == 2 {
		tid = uint16(m.T[0])<<8 | uint16(m.T[1])
		tx = s.txns[tid]
	}
	if tx == nil || tx.addr != from {
		s.stats.Unsolicited++
		s.mu.Unlock()
		return
	}
	s.dropTxnLocked(tid, tx)
	s.stats.RepliesIn++
	var ping *node
	if m.Y == krpc.Response {
		secure := IsSecureID(ID(m.R.ID), from.Addr())
		if !secure {
			s.stats.NonSecureIDs++
		}
		var res insertResult
		if secure || !s.cfg.EnforceSecureIDs {
			res, ping = s.tableFor(from).heardReply(ID(m.R.ID), from, time.Now())
		}
		if res == insertAdded && s.tableFor(from).len() == 1 {
			s.wantJoin = true // our first node: look ourselves up
		}
	}
	if tx.ch != nil {
		select {
		case tx.ch <- reply{tid: tid, from: from, msg: m}:
		default: // the lookup's channel holds one slot per transaction
		}
	}
	s.mu.Unlock()
	if ping != nil {
		s.ping(ping.addr)
	}
}

func (s *Server) tableFor(addr netip.AddrPort) *table {
	if addr.Addr().Is4() {
		return s.t4
	}
	return s.t6
}

// newTxn registers a transaction. The caller holds s.mu.
func (s *Server) newTxnLocked(addr netip.AddrPort, method string, ch chan<- reply) (uint16, error) {
	if s.closed {
		return 0, ErrClosed
	}
	if len(s.txns) >= maxTxns {
		return 0, errBusy
	}
	for {
		s.nextTID++
		if s.txns[s.nextTID] == nil {
			break
		}
	}
	tid := s.nextTID
	s.txns[tid] = &txn{addr: addr, method: method, deadline: time.Now().Add(s.cfg.QueryTimeout), ch: ch}
	s.stats.QueriesOut++
	return tid, nil
}

// query sends a query to addr; the reply (or nothing, on timeout) arrives on
// ch, which the caller must drain or abandon with cancelTxn.
func (s *Server) query(addr netip.AddrPort, method string, a *krpc.Args, ch chan<- reply) (uint16, error) {
	s.mu.Lock()
	tid, err := s.newTxnLocked(addr, method, ch)
	if ch == nil && err == nil {
		s.pings++
		s.pingAddrs[addr] = struct{}{}
	}
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	a.ID = s.id
	if s.v4 && s.v6 && (method == krpc.MethodFindNode || method == krpc.MethodGetPeers) {
		a.Want = krpc.WantN4 | krpc.WantN6
	}
	b := krpc.AppendQuery(make([]byte, 0, 160), []byte{byte(tid >> 8), byte(tid)}, method, a, s.cfg.ReadOnly)
	if err := s.send(b, addr); err != nil {
		s.cancelTxn(tid, true)
		return 0, fmt.Errorf("dht: send %s to %v: %w", method, addr, err)
	}
	return tid, nil
}

// cancelTxn forgets a transaction; if failed, the node is charged with a
// failure.
func (s *Server) cancelTxn(tid uint16, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.txns[tid]
	if tx == nil {
		return
	}
	s.dropTxnLocked(tid, tx)
	if failed {
		s.tableFor(tx.addr).failed(tx.addr)
		s.stats.Timeouts++
	}
}

// dropTxnLocked forgets a transaction.
func (s *Server) dropTxnLocked(tid uint16, tx *txn) {
	delete(s.txns, tid)
	if tx.ch == nil {
		s.pings--
		delete(s.pingAddrs, tx.addr)
	}
}

// ping sends a ping whose reply only updates the routing table. It does
// nothing if too many of our pings are outstanding or one to addr is.
func (s *Server) ping(addr netip.AddrPort) {
	s.mu.Lock()
	_, dup := s.pingAddrs[addr]
	busy := dup || s.pings >= maxServerPings || !s.servesFamily(addr)
	s.mu.Unlock()
	if busy {
		return
	}
	s.query(addr, krpc.MethodPing, &krpc.Args{}, nil)
}

func (s *Server) servesFamily(addr netip.AddrPort) bool {
	if addr.Addr().Is4() {
		return s.v4
	}
	return s.v6
}

// AddNode asks the node at addr to join our routing table: it is pinged, and
// inserted if it answers. The engine calls this with the address and port of
// a peer's BEP 5 PORT message. It never blocks.
func (s *Server) AddNode(addr netip.AddrPort) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if !validAddr(addr) || addr == s.local {
		return
	}
	s.mu.Lock()
	known := s.tableFor(addr).lookup(addr) != nil
	s.mu.Unlock()
	if !known {
		s.ping(addr)
	}
}

// goTracked starts a goroutine tracked by the Server's wait group, unless the
// Server is closed.
func (s *Server) goTracked(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}
