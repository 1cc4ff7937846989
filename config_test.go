package bt

import (
	"context"
	"log/slog"
	"testing"
)

// TestDefaultLoggerQuiet: a library writes no logs unless given a Logger.
func TestDefaultLoggerQuiet(t *testing.T) {
	if l := (Config{}).withDefaults().Logger; l.Enabled(context.Background(), slog.LevelError) {
		t.Error("the default Logger writes errors; it should write nothing")
	}
	l := slog.New(slog.NewTextHandler(nil, nil))
	if got := (Config{Logger: l}).withDefaults().Logger; got != l {
		t.Error("a given Logger is not used")
	}
}
