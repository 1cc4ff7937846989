package dht

import (
	"net/netip"
	"slices"
	"time"
)

// Node liveness rules (BEP 5).
const (
	goodFor     = 15 * time.Minute // a reply (or a query after a reply) keeps a node good this long
	badFailures = 2                // consecutive unanswered queries that make a node bad
)

// node is a routing-table entry. It is owned by the Server and guarded by its
// mutex.
type node struct {
	id        ID
	addr      netip.AddrPort
	lastReply time.Time // zero: never replied
	lastQuery time.Time // last query it sent us
	failures  int       // consecutive unanswered queries
}

func (n *node) good(now time.Time) bool {
	if n.failures >= badFailures || n.lastReply.IsZero() {
		return false
	}
	return now.Sub(n.lastReply) < goodFor || now.Sub(n.lastQuery) < goodFor
}

func (n *node) bad() bool { return n.failures >= badFailures }

func (n *node) lastSeen() time.Time {
	if n.lastQuery.After(n.lastReply) {
		return n.lastQuery
	}
	return n.lastReply
}

// bucket holds up to k nodes plus up to k replacement candidates that replied
// to us while the bucket was full.
type bucket struct {
	nodes        []*node
	replacements []*node
	changed      time.Time
}

// table is a Kademlia routing table for one address family. Bucket i holds
// the nodes whose ids share exactly i leading bits with ours; the last bucket
// holds everything closer, and it is the one that splits (BEP 5's "split the
// bucket containing our id", in its equivalent prefix-length form).
type table struct {
	self    ID
	k       int
	buckets []*bucket
	byAddr  map[netip.AddrPort]*node
}

func newTable(self ID, k int, now time.Time) *table {
	return &table{
		self:    self,
		k:       k,
		buckets: []*bucket{{changed: now}},
		byAddr:  make(map[netip.AddrPort]*node),
	}
}

func (t *table) bucketIndex(id ID) int {
	return min(commonPrefixLen(t.self, id), len(t.buckets)-1)
}

// len returns the number of nodes in the table (not counting replacements).
func (t *table) len() int {
	n := 0
	for _, b := range t.buckets {
		n += len(b.nodes)
	}
	return n
}

// lookup returns the table's entry for addr, if any (replacements excluded).
func (t *table) lookup(addr netip.AddrPort) *node {
	return t.byAddr[addr]
}

// insertResult says what insert did.
type insertResult int

const (
	insertRejected insertResult = iota // our own id, or a conflicting id
	insertUpdated                      // already present; refreshed
	insertAdded                        // added to a bucket
	insertPending                      // bucket full: kept as a replacement candidate
)

// heardReply records that the node id at addr answered one of our queries,
// inserting it if there is room. If the bucket is full of nodes that are not
// bad, the node becomes a replacement candidate and ping, if non-nil, is the
// bucket's least recently seen questionable node, which the caller should
// ping to learn whether it is still alive.
func (t *table) heardReply(id ID, addr netip.AddrPort, now time.Time) (res insertResult, ping *node) {
	if id == t.self {
		return insertRejected, nil
	}
	if n := t.byAddr[addr]; n != nil {
		if n.id != id {
			// The address now answers with another id: drop the old entry.
			t.remove(n)
		} else {
			n.lastReply, n.failures = now, 0
			return insertUpdated, nil
		}
	}
	for {
		i := t.bucketIndex(id)
		b := t.buckets[i]
		for _, n := range b.nodes {
			if n.id == id {
				// Same id from another address: keep the one we know unless
				// it stopped answering.
				if !n.bad() {
					return insertRejected, nil
				}
				delete(t.byAddr, n.addr)
				n.addr, n.lastReply, n.failures = addr, now, 0
				t.byAddr[addr] = n
				b.changed = now
				return insertUpdated, nil
			}
		}
		nn := &node{id: id, addr: addr, lastReply: now}
		if len(b.nodes) < t.k {
			b.nodes = append(b.nodes, nn)
			b.changed = now
			t.byAddr[addr] = nn
			return insertAdded, nil
		}
		if i == len(t.buckets)-1 && len(t.buckets) < 160 {
			t.split()
			continue
		}
		for j, old := range b.nodes {
			if old.bad() {
				delete(t.byAddr, old.addr)
				b.nodes[j] = nn
				b.changed = now
				t.byAddr[addr] = nn
				return insertAdded, nil
			}
		}
		b.addReplacement(nn, t.k)
		for _, n := range b.nodes {
			if !n.good(now) && (ping == nil || n.lastSeen().Before(ping.lastSeen())) {
				ping = n
			}
		}
		return insertPending, ping
	}
}

// wouldAccept reports whether heardReply(id) would insert id straight away.
func (t *table) wouldAccept(id ID, now time.Time) bool {
	if id == t.self {
		return false
	}
	i := t.bucketIndex(id)
	b := t.buckets[i]
	if len(b.nodes) < t.k || (i == len(t.buckets)-1 && len(t.buckets) < 160) {
		return true
	}
	for _, n := range b.nodes {
		if n.bad() {
			return true
		}
	}
	return false
}

func (b *bucket) addReplacement(n *node, k int) {
	for i, r := range b.replacements {
		if r.id == n.id || r.addr == n.addr {
			b.replacements[i] = n
			return
		}
	}
	if len(b.replacements) >= k {
		b.replacements = slices.Delete(b.replacements, 0, 1) // drop the oldest
	}
	b.replacements = append(b.replacements, n)
}

// split divides the last bucket in two.
func (t *table) split() {
	last := t.buckets[len(t.buckets)-1]
	depth := len(t.buckets) - 1
	next := &bucket{changed: last.changed}
	last.nodes, next.nodes = t.divide(last.nodes, depth)
	last.replacements, next.replacements = t.divide(last.replacements, depth)
	t.buckets = append(t.buckets, next)
}

// divide separates the nodes that stay in a bucket at depth from those
// that share more than depth leading bits with our id, in new slices.
func (t *table) divide(ns []*node, depth int) (stay, move []*node) {
	for _, n := range ns {
		if commonPrefixLen(t.self, n.id) > depth {
			move = append(move, n)
		} else {
			stay = append(stay, n)
		}
	}
	return stay, move
}

// heardQuery records a query from addr; only nodes already in the table are
// affected (a query alone never inserts a node).
func (t *table) heardQuery(id ID, addr netip.AddrPort, now time.Time) bool {
	n := t.byAddr[addr]
	if n == nil || n.id != id {
		return false
	}
	n.lastQuery = now
	return true
}

// failed records that the node at addr did not answer a query. A node that
// becomes bad is replaced by the newest replacement candidate if there is one.
func (t *table) failed(addr netip.AddrPort) {
	n := t.byAddr[addr]
	if n == nil {
		return
	}
	n.failures++
	if !n.bad() {
		return
	}
	b := t.buckets[t.bucketIndex(n.id)]
	if len(b.replacements) > 0 {
		r := b.replacements[len(b.replacements)-1]
		b.replacements = b.replacements[:len(b.replacements)-1]
		t.remove(n)
		if t.byAddr[r.addr] == nil {
			b.nodes = append(b.nodes, r)
			t.byAddr[r.addr] = r
		}
	}
}

func (t *table) remove(n *node) {
	b := t.buckets[t.bucketIndex(n.id)]
	if i := slices.Index(b.nodes, n); i >= 0 {
		b.nodes = slices.Delete(b.nodes, i, i+1)
	}
	if t.byAddr[n.addr] == n {
		delete(t.byAddr, n.addr)
	}
}

// closest returns up to n nodes that are not bad, closest to target first.
func (t *table) closest(target ID, n int) []*node {
	var all []*node
	for _, b := range t.buckets {
		for _, nd := range b.nodes {
			if !nd.bad() {
				all = append(all, nd)
			}
		}
	}
	slices.SortFunc(all, func(a, b *node) int {
		if closer(target, a.id, b.id) {
			return -1
		}
		if closer(target, b.id, a.id) {
			return 1
		}
		return 0
	})
	return all[:min(n, len(all))]
}

// stale returns refresh targets: a random id in the range of each bucket not
// changed since before.
func (t *table) stale(before time.Time) []ID {
	var ids []ID
	for i, b := range t.buckets {
		if !b.changed.Before(before) {
			continue
		}
		id := randomIDWithPrefix(t.self, i)
		if i < len(t.buckets)-1 {
			id = flipped(id, t.self, i) // differ from ours at bit i
		}
		ids = append(ids, id)
	}
	return ids
}

// flipped returns id with bit i set to the opposite of self's bit i.
func flipped(id, self ID, i int) ID {
	mask := byte(0x80) >> (i % 8)
	id[i/8] = id[i/8]&^mask | (^self[i/8])&mask
	return id
}

// touch marks the bucket covering id as changed (after a refresh lookup).
func (t *table) touch(id ID, now time.Time) {
	t.buckets[t.bucketIndex(id)].changed = now
}

// all returns every node in the table.
func (t *table) all() []*node {
	var out []*node
	for _, b := range t.buckets {
		out = append(out, b.nodes...)
	}
	return out
}
