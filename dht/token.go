package dht

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"net/netip"
	"time"
)

// Tokens (BEP 5): a get_peers reply carries a token that a later
// announce_peer from the same IP address must present. A token is the first
// tokenLen bytes of HMAC-SHA1(secret, ip). The secret changes every
// tokenRotate; tokens made with the current or the previous secret are
// accepted, so a token lives between 5 and 10 minutes.
const (
	tokenLen    = 8
	tokenRotate = 5 * time.Minute
)

type tokens struct {
	cur, prev [16]byte
	rotated   time.Time
}

func newTokens(now time.Time) *tokens {
	t := &tokens{rotated: now}
	rand.Read(t.cur[:])
	rand.Read(t.prev[:])
	return t
}

// maybeRotate replaces the secret if it is older than tokenRotate.
func (t *tokens) maybeRotate(now time.Time) {
	if now.Sub(t.rotated) < tokenRotate {
		return
	}
	t.prev = t.cur
	rand.Read(t.cur[:])
	t.rotated = now
}

func tokenFor(secret [16]byte, ip netip.Addr) []byte {
	h := hmac.New(sha1.New, secret[:])
	b, _ := ip.Unmap().MarshalBinary()
	h.Write(b)
	return h.Sum(nil)[:tokenLen]
}

// issue returns the token for ip.
func (t *tokens) issue(ip netip.Addr) []byte { return tokenFor(t.cur, ip) }

// valid reports whether tok was issued to ip by the current or previous
// secret.
func (t *tokens) valid(tok []byte, ip netip.Addr) bool {
	if len(tok) != tokenLen {
		return false
	}
	return hmac.Equal(tok, tokenFor(t.cur, ip)) || hmac.Equal(tok, tokenFor(t.prev, ip))
}
