package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/bt-go/bt/internal/termtext"
)

// Event is the announce event of BEP 3.
type Event int

// The announce events. EventNone is a regular, periodic announce.
const (
	EventNone Event = iota
	EventStarted
	EventCompleted
	EventStopped
)

// String returns the event's name as an HTTP tracker receives it ("" for
// EventNone).
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventCompleted:
		return "completed"
	case EventStopped:
		return "stopped"
	}
	return ""
}

// AnnounceRequest is what a client tells a tracker about itself.
type AnnounceRequest struct {
	InfoHash   [20]byte
	PeerID     [20]byte
	Port       uint16 // the TCP port peers should dial
	Uploaded   int64
	Downloaded int64
	Left       int64
	Event      Event
	// NumWant is how many peers to ask for; 0 asks for the tracker's
	// default (-1 over UDP, no parameter over HTTP).
	NumWant int
	// Key identifies this client across IP address changes; the same key
	// should be sent to every tracker of a torrent.
	Key uint32
	// TrackerID is the "tracker id" the HTTP tracker returned last time.
	TrackerID string
	// IPv4 and IPv6 are optional addresses sent as BEP 7 hints to HTTP
	// trackers ("ipv4=", "ipv6=").
	IPv4, IPv6 netip.Addr
}

// AnnounceResponse is what a tracker answered.
type AnnounceResponse struct {
	// Interval is how long to wait before the next regular announce, and
	// MinInterval (0 if not given) is the least the tracker accepts. They are
	// as the tracker sent them; the Announcer clamps them to sane bounds.
	Interval, MinInterval time.Duration
	// Complete and Incomplete count seeds and leechers; -1 when the tracker
	// did not say.
	Complete, Incomplete int
	// Peers lists the swarm's addresses, IPv4 and IPv6 together, at most
	// MaxReplyPeers of them.
	Peers []netip.AddrPort
	// Warning is a "warning message" the tracker sent with a good reply.
	Warning string
	// TrackerID is to be sent back on the next announce (HTTP only).
	TrackerID string
}

// ScrapeResult holds one torrent's counts from a scrape (BEP 48).
type ScrapeResult struct {
	Complete   int    // seeds
	Downloaded int    // completed downloads ever recorded
	Incomplete int    // leechers
	Name       string // optional, HTTP only
}

// Errors a caller may branch on with errors.Is or errors.As.
var (
	// ErrUnsupportedScheme: the tracker URL is neither http(s) nor udp.
	ErrUnsupportedScheme = errors.New("tracker: unsupported URL scheme")
	// ErrResponseTooLarge: a reply body, compressed or not, passed the cap.
	ErrResponseTooLarge = errors.New("tracker: response too large")
	// ErrRedirectRefused: a redirect would go from a public tracker to a
	// private, loopback or link-local address, or there were too many.
	ErrRedirectRefused = errors.New("tracker: redirect refused")
	// ErrTimeout: a UDP tracker did not answer after every retransmission.
	ErrTimeout = errors.New("tracker: no answer")
	// ErrScrapeUnsupported: the HTTP announce URL has no scrape counterpart
	// (BEP 48: its last path element does not begin with "announce").
	ErrScrapeUnsupported = errors.New("tracker: scrape not supported by this URL")
)

// ErrGone: an HTTP tracker answered 410 Gone, which says it will not come
// back. It is a permanent failure (see Permanent).
var ErrGone = errors.New("tracker: gone (HTTP 410)")

// Permanent reports whether err, from Announce, means the tracker will
// never answer: it answered 410 Gone, or its URL cannot be announced to
// (malformed, or of an unsupported scheme). An Announcer stops announcing
// to such a tracker.
func Permanent(err error) bool {
	var ue *url.Error
	return errors.Is(err, ErrGone) || errors.Is(err, ErrUnsupportedScheme) || errors.As(err, &ue) && ue.Op == "parse"
}

// FailureError is a tracker's explicit refusal: the "failure reason" of an
// HTTP reply or the message of a UDP error packet. Reason is as the
// tracker sent it; Error escapes it for a terminal (termtext).
type FailureError struct {
	Reason string
}

func (e *FailureError) Error() string { return "tracker: failure: " + termtext.Safe(e.Reason) }

// ResponseError reports a reply that could not be understood: not bencode,
// a compact string of a wrong length, an HTTP error status, a short or
// unknown UDP packet.
type ResponseError struct {
	URL string
	Err error
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("tracker: bad reply from %s: %v", termtext.Safe(e.URL), e.Err)
}
func (e *ResponseError) Unwrap() error { return e.Err }

// Defaults of a Client's settings.
const (
	DefaultMaxResponseSize = 1 << 20
	DefaultHTTPTimeout     = 30 * time.Second
	DefaultUDPTimeout      = 15 * time.Second
	DefaultUDPAttempts     = 3
	DefaultMaxRedirects    = 5
)

// A Client announces to and scrapes HTTP(S) and UDP trackers. Its zero
// value is ready to use; it is safe for concurrent use and is meant to be
// shared by every torrent of a session (it caches UDP connection ids).
type Client struct {
	// HTTPClient sends HTTP requests. Nil means a client of our own, with
	// DefaultHTTPTimeout. Its CheckRedirect is replaced by our redirect
	// policy for tracker requests.
	HTTPClient *http.Client
	// UserAgent is sent to HTTP trackers when not empty.
	UserAgent string
	// MaxResponseSize caps an HTTP body, both as received and after gzip
	// decompression (DefaultMaxResponseSize if 0).
	MaxResponseSize int64
	// MaxRedirects caps the redirects followed (DefaultMaxRedirects if 0;
	// negative: none).
	MaxRedirects int
	// UDPTimeout is the first retransmission timeout of BEP 15; attempt n
	// waits UDPTimeout·2^n (DefaultUDPTimeout, 15 s, if 0).
	UDPTimeout time.Duration
	// UDPAttempts bounds the sends of one UDP request (DefaultUDPAttempts if
	// 0). BEP 15 allows 9; three (15+30+60 s) keeps a dead tracker from
	// holding up the others for an hour.
	UDPAttempts int
	// resolve looks up host names for the redirect policy; tests replace it.
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// dialUDPConn opens a UDP tracker's socket; tests replace it.
	dialUDPConn func(raddr netip.AddrPort) (udpConn, error)

	mu      sync.Mutex
	connIDs map[string]udpConnID // by the tracker's resolved address
}

// Announce sends req to the tracker at rawURL (http, https or udp) and
// returns its reply. A tracker's refusal is a *FailureError; an
// incomprehensible reply is a *ResponseError.
func (c *Client) Announce(ctx context.Context, rawURL string, req AnnounceRequest) (*AnnounceResponse, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
		return c.announceHTTP(ctx, u, &req)
	case "udp":
		return c.announceUDP(ctx, u, &req)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
}

// Scrape asks the tracker at announceURL for the counts of the given
// torrents (BEP 48; over UDP at most 74 per request, which Scrape splits
// into several). The HTTP scrape URL is derived from the announce URL; a
// torrent the tracker does not know is absent from the result.
func (c *Client) Scrape(ctx context.Context, announceURL string, infoHashes ...[20]byte) (map[[20]byte]ScrapeResult, error) {
	u, err := url.Parse(announceURL)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
		return c.scrapeHTTP(ctx, u, infoHashes)
	case "udp":
		return c.scrapeUDP(ctx, u, infoHashes)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
}

func (c *Client) maxResponseSize() int64 {
	if c.MaxResponseSize > 0 {
		return c.MaxResponseSize
	}
	return DefaultMaxResponseSize
}
