// Package clocktest provides a manual clock for tests of code that takes its
// time and timers from an injected clock (the Clock interfaces of wire/pex
// and wire/metadata).
//
// A package's own Clock interface names its own Timer type, so a test wraps
// Manual in a one-method adapter:
//
//	type manualClock struct{ *clocktest.Manual }
//
//	func (c manualClock) AfterFunc(d time.Duration, f func()) Timer {
//		return c.Manual.AfterFunc(d, f)
//	}
package clocktest

import (
	"sync"
	"time"
)

// Manual is a clock that moves only when a test advances it; due timers run
// synchronously inside Advance. Its methods are safe for concurrent use.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	timers []*Timer
}

// Timer is a pending call made by Manual.AfterFunc.
type Timer struct {
	c       *Manual
	when    time.Time
	f       func()
	stopped bool
}

// NewManual returns a manual clock set to 2026-01-01 00:00 UTC.
func NewManual() *Manual {
	return &Manual{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to be called by the Advance that moves the clock
// d or more past now.
func (c *Manual) AfterFunc(d time.Duration, f func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Timer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop prevents the call if it has not started; it reports whether it did.
func (t *Timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock forward by d, running every timer that falls due,
// in order of due time.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *Timer
		for _, t := range c.timers {
			if !t.stopped && !t.when.After(end) && (next == nil || t.when.Before(next.when)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.when.After(c.now) {
			c.now = next.when
		}
		c.mu.Unlock()
		next.f()
	}
}

// Pending reports how many timers are waiting.
func (c *Manual) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}
