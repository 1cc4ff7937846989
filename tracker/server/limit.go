package server

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimitedIPs bounds the addresses the rate limiter remembers. When it is
// full, idle entries are dropped; if none is idle, new addresses are
// refused until some are: a spray of spoofed sources cannot grow it.
const maxLimitedIPs = 1 << 16

// ipLimiter is a token bucket per source address.
type ipLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	return &ipLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: make(map[netip.Addr]*bucket)}
}

// addrKey is the unit of the per-address limits: an IPv4 address, or the
// /64 network of an IPv6 one (a single host is usually given a whole /64,
// so counting its addresses one by one would let it multiply its share).
func addrKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is4() {
		return ip
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.Addr()
}

// allow reports whether ip may make one more request now.
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) bool {
	ip = addrKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxLimitedIPs {
			l.pruneLocked(now)
			if len(l.buckets) >= maxLimitedIPs {
				return false
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// pruneLocked forgets addresses idle long enough for their bucket to have
// refilled: forgetting them changes nothing.
func (l *ipLimiter) pruneLocked(now time.Time) {
	idle := time.Minute
	if l.rate > 0 {
		idle = max(time.Duration(float64(l.burst)/float64(l.rate)*float64(time.Second)), time.Second)
	}
	for ip, b := range l.buckets {
		if now.Sub(b.seen) > idle {
			delete(l.buckets, ip)
		}
	}
}
