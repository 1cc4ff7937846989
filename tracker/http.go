package tracker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxHTTPScrapeHashes bounds the info hashes of one HTTP scrape request (the
// URL grows by about 70 bytes each); longer lists are split.
const maxHTTPScrapeHashes = 50

// announceHTTP performs a BEP 3 announce with the BEP 23 compact and BEP 7
// IPv6 extensions.
func (c *Client) announceHTTP(ctx context.Context, u *url.URL, req *AnnounceRequest) (*AnnounceResponse, error) {
	q := announceQuery(req)
	body, err := c.getHTTP(ctx, withQuery(u, q))
	if err != nil {
		return nil, err
	}
	resp, err := parseAnnounceResponse(body)
	if err != nil {
		return nil, wrapReplyError(u, err)
	}
	return resp, nil
}

// scrapeHTTP performs BEP 48 scrapes, several if there are many hashes.
func (c *Client) scrapeHTTP(ctx context.Context, u *url.URL, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	su, ok := scrapeURL(u)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrScrapeUnsupported, u.Redacted())
	}
	out := make(map[[20]byte]ScrapeResult, len(hashes))
	for len(hashes) > 0 {
		n := min(len(hashes), maxHTTPScrapeHashes)
		var q strings.Builder
		for i, h := range hashes[:n] {
			if i > 0 {
				q.WriteByte('&')
			}
			q.WriteString("info_hash=")
			q.WriteString(escapeBytes(h[:]))
		}
		hashes = hashes[n:]
		body, err := c.getHTTP(ctx, withQuery(su, q.String()))
		if err != nil {
			return nil, err
		}
		files, err := parseScrapeResponse(body)
		if err != nil {
			return nil, wrapReplyError(su, err)
		}
		for h, r := range files {
			out[h] = r
		}
	}
	return out, nil
}

// wrapReplyError keeps a tracker's failure reason as it is and wraps any
// other parse error as a *ResponseError naming the tracker.
func wrapReplyError(u *url.URL, err error) error {
	if _, ok := err.(*FailureError); ok {
		return err
	}
	return &ResponseError{URL: u.Redacted(), Err: err}
}

// scrapeURL derives the scrape URL of BEP 48: the last path element must
// begin with "announce", which becomes "scrape".
func scrapeURL(u *url.URL) (*url.URL, bool) {
	i := strings.LastIndexByte(u.Path, '/')
	last := u.Path[i+1:]
	if !strings.HasPrefix(last, "announce") {
		return nil, false
	}
	su := *u
	su.Path = u.Path[:i+1] + "scrape" + strings.TrimPrefix(last, "announce")
	su.RawPath = ""
	return &su, true
}

// announceQuery builds the announce parameters. info_hash and peer_id are
// raw bytes, so they are escaped by hand: every byte that is not unreserved
// becomes %XX (url.QueryEscape would turn a space byte into "+", which some
// trackers do not decode).
func announceQuery(r *AnnounceRequest) string {
	var b strings.Builder
	b.WriteString("info_hash=")
	b.WriteString(escapeBytes(r.InfoHash[:]))
	b.WriteString("&peer_id=")
	b.WriteString(escapeBytes(r.PeerID[:]))
	b.WriteString("&port=" + strconv.Itoa(int(r.Port)))
	b.WriteString("&uploaded=" + strconv.FormatInt(max(r.Uploaded, 0), 10))
	b.WriteString("&downloaded=" + strconv.FormatInt(max(r.Downloaded, 0), 10))
	b.WriteString("&left=" + strconv.FormatInt(max(r.Left, 0), 10))
	b.WriteString("&compact=1&no_peer_id=1")
	if ev := r.Event.String(); ev != "" {
		b.WriteString("&event=" + ev)
	}
	if r.NumWant > 0 {
		b.WriteString("&numwant=" + strconv.Itoa(r.NumWant))
	}
	b.WriteString("&key=" + fmt.Sprintf("%08x", r.Key))
	if r.TrackerID != "" {
		b.WriteString("&trackerid=" + url.QueryEscape(r.TrackerID))
	}
	if r.IPv4.Is4() {
		b.WriteString("&ipv4=" + r.IPv4.String())
	}
	if r.IPv6.Is6() && !r.IPv6.Is4In6() {
		b.WriteString("&ipv6=" + url.QueryEscape(r.IPv6.String()))
	}
	return b.String()
}

func escapeBytes(p []byte) string {
	var b strings.Builder
	b.Grow(3 * len(p))
	for _, c := range p {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// withQuery returns u with q appended to its query (a private tracker's
// passkey may already be there).
func withQuery(u *url.URL, q string) *url.URL {
	v := *u
	if v.RawQuery == "" {
		v.RawQuery = q
	} else {
		v.RawQuery += "&" + q
	}
	v.Fragment = ""
	return &v
}

// getHTTP fetches u under the redirect policy and returns its body, capped
// and decompressed. A non-200 status is an error unless the body is a
// bencoded dictionary (trackers send failure reasons with 4xx statuses).
func (c *Client) getHTTP(ctx context.Context, u *url.URL) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	// Asking for gzip ourselves stops net/http from decompressing without
	// a bound; readBody applies the cap to the inflated bytes.
	req.Header.Set("Accept-Encoding", "gzip")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// *url.Error would print the whole URL: our peer id and maybe a
		// passkey.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("tracker: request to %s: %w", redactedQueryless(u), err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp, c.maxResponseSize())
	if err != nil {
		return nil, &ResponseError{URL: redactedQueryless(u), Err: err}
	}
	if resp.StatusCode == http.StatusGone {
		return nil, &ResponseError{URL: redactedQueryless(u), Err: ErrGone}
	}
	if resp.StatusCode != http.StatusOK && (len(body) == 0 || body[0] != 'd') {
		return nil, &ResponseError{URL: redactedQueryless(u), Err: fmt.Errorf("HTTP status %s", resp.Status)}
	}
	return body, nil
}

// redactedQueryless names a tracker in errors without its query, which holds
// our peer id and maybe a passkey.
func redactedQueryless(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	return v.Redacted()
}

// readBody reads at most limit bytes of the body, inflating it when it is
// gzip (by header or by magic number); more than limit bytes either way is
// ErrResponseTooLarge.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrResponseTooLarge, limit)
	}
	gz := strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") ||
		len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b
	if !gz {
		return raw, nil
	}
	return gunzip(raw, limit)
}
