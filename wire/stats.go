package wire

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a connection's transfer statistics. Payload counts the data of
// piece messages; Protocol counts every other byte (headers, handshakes
// excluded). Rates are payload bytes per second over the last few seconds.
type Stats struct {
	PayloadUploaded, PayloadDownloaded   int64
	ProtocolUploaded, ProtocolDownloaded int64
	// Waste counts bytes of piece messages we had not requested.
	Waste int64
	// UploadRate and DownloadRate are moving averages in bytes per second.
	UploadRate, DownloadRate float64
}

type counters struct {
	payloadUp, payloadDown, protoUp, protoDown, waste atomic.Uint64
}

// Stats returns the connection's transfer statistics.
func (c *Conn) Stats() Stats {
	now := c.now()
	return Stats{
		PayloadUploaded:    int64(c.stats.payloadUp.Load()),
		PayloadDownloaded:  int64(c.stats.payloadDown.Load()),
		ProtocolUploaded:   int64(c.stats.protoUp.Load()),
		ProtocolDownloaded: int64(c.stats.protoDown.Load()),
		Waste:              int64(c.stats.waste.Load()),
		UploadRate:         c.upRate.rate(now),
		DownloadRate:       c.downRate.rate(now),
	}
}

// Uploaded returns the payload bytes uploaded (the seed's wire.uploaded).
func (c *Conn) Uploaded() int64 { return int64(c.stats.payloadUp.Load()) }

// Downloaded returns the payload bytes downloaded (the seed's wire.downloaded).
func (c *Conn) Downloaded() int64 { return int64(c.stats.payloadDown.Load()) }

// meterSeconds is the window of the moving average.
const meterSeconds = 5

// meter is a moving average of a byte rate over one-second buckets.
type meter struct {
	mu      sync.Mutex
	sec     int64 // the second buckets[sec%len] counts
	buckets [meterSeconds + 1]int64
}

func (m *meter) advance(sec int64) {
	if sec-m.sec > int64(len(m.buckets)) {
		m.buckets = [len(m.buckets)]int64{}
	} else {
		for s := m.sec + 1; s <= sec; s++ {
			m.buckets[s%int64(len(m.buckets))] = 0
		}
	}
	if sec > m.sec {
		m.sec = sec
	}
}

func (m *meter) add(now time.Duration, n int) {
	sec := int64(now / time.Second)
	m.mu.Lock()
	m.advance(sec)
	m.buckets[sec%int64(len(m.buckets))] += int64(n)
	m.mu.Unlock()
}

// rate returns bytes per second over the last meterSeconds full seconds
// and the current partial one.
func (m *meter) rate(now time.Duration) float64 {
	sec := int64(now / time.Second)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(sec)
	var sum int64
	for _, b := range m.buckets {
		sum += b
	}
	span := float64(meterSeconds) + float64(now%time.Second)/float64(time.Second)
	if elapsed := now.Seconds(); elapsed < span {
		span = max(elapsed, 0.001)
	}
	return float64(sum) / span
}
