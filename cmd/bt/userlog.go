package main

import (
	"context"
	"fmt"
	"github.com/bt-go/bt/internal/termtext"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// newLogger returns the logger the engine writes to on the command's
// behalf. With --debug it is a text log of everything. Otherwise it prints
// each distinct warning once, as one plain sentence ("bt: warning: …"),
// and leaves out the engine's "torrent stopped" error, which the command
// reports itself as its own error (so a full disk is said once).
func newLogger(w io.Writer, debug bool) *slog.Logger {
	if debug {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(&userHandler{w: w, seen: make(map[string]bool), mu: new(sync.Mutex)})
}

type userHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	seen  map[string]bool // messages printed (shared by derived handlers)
	attrs []slog.Attr
}

func (h *userHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *userHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "torrent stopped" {
		return nil
	}
	var errText string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			errText = plainError(fmt.Errorf("%v", a.Value.Any()))
		}
		return true
	})
	msg := termtext.Safe(r.Message)
	errText = termtext.Safe(errText)
	if errText != "" {
		msg += ": " + errText
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[r.Message] {
		return nil
	}
	h.seen[r.Message] = true
	level := "warning"
	if r.Level >= slog.LevelError {
		level = "error"
	}
	_, err := fmt.Fprintf(h.w, "bt: %s: %s\n", level, strings.TrimSpace(msg))
	return err
}

func (h *userHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *userHandler) WithGroup(string) slog.Handler { return h }
