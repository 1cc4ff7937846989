package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// cgnat is the shared address space of RFC 6598, private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPrivateAddr reports whether a is not a public unicast address: loopback,
// private (RFC 1918, ULA), link-local, unspecified, CGNAT or multicast.
func isPrivateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a) ||
		a.Is4() && a.As4()[0] == 0
}

// hostAddrs returns the addresses of host: the literal itself, or what the
// resolver says.
func (c *Client) hostAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return []netip.Addr{netip.IPv6Loopback()}, nil
	}
	if c.resolve != nil {
		return c.resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// httpClient returns the client for tracker requests: the configured one (or
// a default) with our redirect policy.
func (c *Client) httpClient() *http.Client {
	var hc http.Client
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	} else {
		hc.Timeout = DefaultHTTPTimeout
	}
	hc.CheckRedirect = c.checkRedirect
	return &hc
}

// checkRedirect follows at most MaxRedirects redirects, never to another
// scheme than http(s), and never from a public tracker to a non-public
// address: a tracker on the Internet must not be able to make us send
// requests into the user's LAN or to their own machine. A tracker that is
// itself private may redirect anywhere. (The check resolves names once; a
// DNS answer that changes between the check and the dial is not caught.)
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	limit := c.MaxRedirects
	if limit == 0 {
		limit = DefaultMaxRedirects
	}
	if len(via) > limit || limit < 0 {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, max(limit, 0))
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: to scheme %q", ErrRedirectRefused, req.URL.Scheme)
	}
	ctx := req.Context()
	origin, err := c.hostAddrs(ctx, via[0].URL.Hostname())
	if err != nil {
		return fmt.Errorf("%w: resolving %s: %v", ErrRedirectRefused, via[0].URL.Hostname(), err)
	}
	originPublic := len(origin) > 0
	for _, a := range origin {
		if isPrivateAddr(a) {
			originPublic = false
		}
	}
	if !originPublic {
		return nil
	}
	target, err := c.hostAddrs(ctx, req.URL.Hostname())
	if err != nil {
		return fmt.Errorf("%w: resolving %s: %v", ErrRedirectRefused, req.URL.Hostname(), err)
	}
	for _, a := range target {
		if isPrivateAddr(a) {
			return fmt.Errorf("%w: public tracker %s redirected to non-public address %s",
				ErrRedirectRefused, via[0].URL.Hostname(), a)
		}
	}
	return nil
}

// gunzip inflates raw, refusing to produce more than limit bytes (a gzip
// bomb turns a small body into gigabytes).
func gunzip(raw []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%w: gzip body inflates past %d bytes", ErrResponseTooLarge, limit)
	}
	return out, nil
}
