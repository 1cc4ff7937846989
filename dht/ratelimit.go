package dht

import (
	"net/netip"
	"time"
)

// rateLimiter (disabled by a negative rate) is a token bucket per source IP for incoming queries, with a
// bounded number of tracked addresses. When the map is full, addresses not
// already tracked share one overflow bucket, so a flood from many addresses
// cannot grow memory and still gets limited.
type rateLimiter struct {
	rate     float64 // queries per second per IP
	burst    float64
	max      int
	buckets  map[netip.Addr]*ipBucket
	overflow ipBucket
}

type ipBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst, max int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), max: max, buckets: make(map[netip.Addr]*ipBucket)}
}

// allow reports whether a query from ip may be served now.
func (r *rateLimiter) allow(ip netip.Addr, now time.Time) bool {
	if r.rate < 0 {
		return true
	}
	b := r.buckets[ip]
	if b == nil {
		if len(r.buckets) >= r.max {
			b = &r.overflow
		} else {
			b = &ipBucket{tokens: r.burst, last: now}
			r.buckets[ip] = b
		}
	}
	b.tokens = min(r.burst, b.tokens+now.Sub(b.last).Seconds()*r.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets addresses whose bucket has refilled.
func (r *rateLimiter) sweep(now time.Time) {
	for ip, b := range r.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*r.rate >= r.burst {
			delete(r.buckets, ip)
		}
	}
}
