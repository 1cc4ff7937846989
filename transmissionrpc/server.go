// Package transmissionrpc serves a daemon.Daemon over the Transmission RPC
// protocol, so that the remotes written for transmission-daemon
// (transmission-remote, its web client, Tremotesf, the *arr tools...) drive
// bt unchanged.
//
// The protocol is HTTP POST of a JSON request at /transmission/rpc:
//
//	{"method": "torrent-get", "arguments": {"fields": ["id", "name"]}, "tag": 7}
//
// answered with {"result": "success", "arguments": {...}, "tag": 7}, or with
// the text of an error in "result" (still HTTP 200). This is the format of
// rpc-version 17 (Transmission 4.0 and earlier), whose method and field
// names are Transmission's own.
//
// # Security
//
// A request passes, in this order: the IP allow-list (403; by default
// only 127.0.0.1 and ::1), Basic authentication when a user is configured
// (401 with a challenge; after MaxLoginFailures failures every request is
// refused until the handler is made again), the Host allow-list (421,
// against DNS rebinding as in CVE-2018-5702; skipped when authentication
// is on, as Transmission does), and the X-Transmission-Session-Id exchange
// (409 carrying the id; against cross-site request forgery). Request
// bodies are bounded (MaxBodySize) and so is their nesting.
package transmissionrpc

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync"

	"github.com/bt-go/bt/daemon"
)

// Limits of a request.
const (
	// MaxBodySize bounds a request body: a base64 .torrent of up to about
	// 6 MB fits.
	MaxBodySize = 8 << 20
	// MaxDepth bounds the nesting of a request's JSON.
	MaxDepth = 16
	// MaxLoginFailures failed logins lock the RPC until a restart.
	MaxLoginFailures = 100
)

// Options configure a Handler.
type Options struct {
	// User and Password turn Basic authentication on when User is set.
	User, Password string
	// AllowedIPs are the client addresses allowed (prefixes, e.g.
	// "192.168.1.0/24"). Default 127.0.0.1 and ::1. "*" (or 0.0.0.0/0 and
	// ::/0) allows every address.
	AllowedIPs []netip.Prefix
	// AllowedHosts are the Host header values allowed besides IP address
	// literals and localhost; an entry may start with "*." to match
	// subdomains. NoHostCheck turns the check off.
	AllowedHosts []string
	NoHostCheck  bool
	// WebHome is the directory of Transmission's web client, served at
	// /transmission/web/ (empty: none).
	WebHome string
	// Logger receives the RPC's logs. Default: none.
	Logger *slog.Logger
	// OnClose is called by session-close (the daemon should exit).
	OnClose func()
}

// Handler is the RPC's http.Handler.
type Handler struct {
	d         *daemon.Daemon
	o         Options
	log       *slog.Logger
	sessionID string

	mu       sync.Mutex
	failures int
}

// NewHandler returns the RPC handler of d.
func NewHandler(d *daemon.Daemon, o Options) *Handler {
	if o.AllowedIPs == nil {
		o.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 24)
	rand.Read(b)
	return &Handler{d: d, o: o, log: o.Logger, sessionID: base64.RawURLEncoding.EncodeToString(b)}
}

// SessionID returns the X-Transmission-Session-Id clients must send.
func (h *Handler) SessionID() string { return h.sessionID }

const sessionHeader = "X-Transmission-Session-Id"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.ipAllowed(r.RemoteAddr) {
		h.log.Warn("rpc: refused address", "addr", r.RemoteAddr)
		http.Error(w, "403: Forbidden\n\nUnauthorized IP Address.", http.StatusForbidden)
		return
	}
	if !h.authorized(w, r) {
		return
	}
	if h.o.User == "" && !h.o.NoHostCheck && !h.hostAllowed(r.Host) {
		http.Error(w, "421: Misdirected Request\n\nTransmission received your request, but the hostname was unrecognized.\n"+
			"Add it to the allowed hosts (--rpc-host) if you reach the daemon through it.", http.StatusMisdirectedRequest)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/transmission/rpc" || strings.HasPrefix(p, "/transmission/rpc/"):
		h.serveRPC(w, r)
	case h.o.WebHome != "" && (p == "/" || p == "/transmission" || p == "/transmission/" || p == "/transmission/web"):
		http.Redirect(w, r, "/transmission/web/", http.StatusMovedPermanently)
	case h.o.WebHome != "" && strings.HasPrefix(p, "/transmission/web/"):
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.StripPrefix("/transmission/web", http.FileServer(http.Dir(h.o.WebHome))).ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) ipAllowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range h.o.AllowedIPs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// authorized checks Basic authentication, answering 401 (or 403 once
// locked out) itself.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h.o.User == "" {
		return true
	}
	h.mu.Lock()
	locked := h.failures >= MaxLoginFailures
	h.mu.Unlock()
	if locked {
		http.Error(w, "403: Forbidden\n\nToo many unsuccessful login attempts. Please restart the daemon.", http.StatusForbidden)
		return false
	}
	user, pass, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(user), []byte(h.o.User))&
		subtle.ConstantTimeCompare([]byte(pass), []byte(h.o.Password)) == 1 {
		return true
	}
	if ok {
		h.mu.Lock()
		h.failures++
		h.mu.Unlock()
		h.log.Warn("rpc: failed login", "addr", r.RemoteAddr)
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Transmission"`)
	http.Error(w, "401: Unauthorized\n\nUnauthorized User", http.StatusUnauthorized)
	return false
}

func (h *Handler) hostAllowed(host string) bool {
	if host == "" {
		return false
	}
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	host = strings.ToLower(host)
	if host == "localhost" {
		return true
	}
	for _, a := range h.o.AllowedHosts {
		a = strings.ToLower(a)
		if a == host {
			return true
		}
		if ok, _ := path.Match(a, host); ok && strings.HasPrefix(a, "*.") {
			return true
		}
	}
	return false
}

func (h *Handler) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(sessionHeader) != h.sessionID {
		w.Header().Set(sessionHeader, h.sessionID)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"+
			"<p>To fix this, follow these steps:<ol><li> When reading a response, get its %s header and remember it"+
			"<li> Add the updated header to your outgoing requests"+
			"<li> When you get this 409 error message, resend your request with the updated header"+
			"</ol></p><p><code>%s: %s</code></p>", sessionHeader, sessionHeader, h.sessionID)
		return
	}
	w.Header().Set(sessionHeader, h.sessionID)
	if r.Method != http.MethodPost {
		http.Error(w, "405: Method Not Allowed\n\nPOST a JSON request.", http.StatusMethodNotAllowed)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeJSON(w, response{Result: err.Error()})
		return
	}
	writeJSON(w, h.call(r.Context(), body))
}
