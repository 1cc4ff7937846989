package metadata

import (
	"time"

	"github.com/bt-go/bt/internal/clocktest"
)

// manualClock is a Clock that moves only when a test advances it; due timers
// run synchronously inside Advance.
type manualClock struct{ *clocktest.Manual }

func newManualClock() *manualClock { return &manualClock{clocktest.NewManual()} }

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer { return c.Manual.AfterFunc(d, f) }
