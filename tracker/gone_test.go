package tracker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// syncBuffer is a log destination safe for the announcer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAnnouncerStopsAtGone: a tracker that answers 410 Gone is announced
// to once, dropped from its tier and said so once, while the working
// tracker of the same tier goes on; before, it was asked again 10 s later
// and on every round after.
func TestAnnouncerStopsAtGone(t *testing.T) {
	var mu sync.Mutex
	gone, good := 0, 0
	ug := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gone++
		mu.Unlock()
		w.WriteHeader(http.StatusGone)
		w.Write(mustBencode(t, map[string]any{"failure reason": "closed down"}))
	})
	uw := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		good++
		mu.Unlock()
		w.Write(mustBencode(t, map[string]any{"interval": 1, "peers": ""}))
	})
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// Two tiers so both trackers are asked on every round: the gone one
	// alone in the first.
	r := runAnnouncer(t, AnnouncerConfig{
		Tiers:         [][]string{{ug}, {uw}},
		AllTiers:      true,
		RetryInterval: time.Millisecond, MinInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond,
		Logger: log,
	})
	waitfor.Cond(t, 10*time.Second, "five rounds at the working tracker", func() bool { mu.Lock(); defer mu.Unlock(); return good >= 5 })
	r.stop()
	mu.Lock()
	defer mu.Unlock()
	if gone != 1 {
		t.Errorf("the gone tracker was announced to %d times", gone)
	}
	st := r.Trackers()[0]
	if len(st.URLs) != 0 || len(st.Dropped) != 1 || st.Dropped[0] != ug || !errors.Is(st.LastError, ErrGone) {
		t.Errorf("tier of the gone tracker: urls %v, dropped %v, last error %v", st.URLs, st.Dropped, st.LastError)
	}
	if n := strings.Count(logs.String(), "not announcing to it again"); n != 1 {
		t.Errorf("said %d times that the tracker is dropped:\n%s", n, logs.String())
	}
}

func TestPermanent(t *testing.T) {
	var c Client
	for _, u := range []string{"ftp://tracker/announce", "http://[::1/announce", "wss://x/announce"} {
		if _, err := c.Announce(context.Background(), u, AnnounceRequest{}); !Permanent(err) {
			t.Errorf("%s: %v is not permanent", u, err)
		}
	}
	for _, err := range []error{&FailureError{Reason: "unregistered torrent"}, ErrTimeout, &ResponseError{Err: errors.New("HTTP status 503")}} {
		if Permanent(err) {
			t.Errorf("%v is permanent", err)
		}
	}
}

// TestFailureReasonEscaped: a tracker's failure reason reaches the user
// through Error, with its escape sequences and line breaks made inert.
func TestFailureReasonEscaped(t *testing.T) {
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(mustBencode(t, map[string]any{"failure reason": "nope\x1b[2J\r\nINFO download complete\a"}))
	})
	var c Client
	_, err := c.Announce(context.Background(), u, AnnounceRequest{})
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Reason != "nope\x1b[2J\r\nINFO download complete\a" {
		t.Fatalf("error %v", err)
	}
	if got, want := err.Error(), `tracker: failure: nope\x1b[2J\r\nINFO download complete\x07`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
