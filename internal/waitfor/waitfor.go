// Package waitfor is how bt's tests wait: for a condition to hold or for a
// channel, always with a time-out, so that a regression fails the test with
// a message naming what never happened instead of hanging until the test
// binary's time limit.
package waitfor

import (
	"testing"
	"time"
)

// Cond polls cond every few milliseconds until it holds, and fails the test
// if it still does not after timeout.
func Cond(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Recv waits for a value from ch, or for ch to close, and returns it (the
// zero value if ch closed); it fails the test after timeout.
func Recv[T any](t testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	var zero T
	return zero
}
