package bt

import (
	"math"
	"time"
)

// rate is an exponentially weighted moving average of bytes per second,
// fed with byte counts and sampled on the torrent's tick. Owned by the
// torrent loop.
type rate struct {
	last  int64 // counter value at the previous sample
	at    time.Time
	value float64
}

// rateHalfLife is how fast old samples fade.
const rateHalfLife = 2 * time.Second

// sample updates the average from a monotonically growing counter.
func (r *rate) sample(now time.Time, counter int64) {
	if r.at.IsZero() {
		r.at, r.last = now, counter
		return
	}
	dt := now.Sub(r.at).Seconds()
	if dt <= 0 {
		return
	}
	inst := float64(counter-r.last) / dt
	// weight of the new sample: 1 - 2^(-dt/halflife)
	w := 1 - math.Exp2(-dt/rateHalfLife.Seconds())
	r.value += w * (inst - r.value)
	r.at, r.last = now, counter
}
