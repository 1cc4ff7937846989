package dht

import (
	"encoding/hex"
	"net/netip"
	"testing"
)

// The test vectors of BEP 42.
func TestBEP42Vectors(t *testing.T) {
	vectors := []struct {
		ip string
		id string
	}{
		{"124.31.75.21", "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
		{"21.75.31.124", "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
		{"65.23.51.170", "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
		{"84.124.73.14", "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
		{"43.213.53.83", "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
	}
	for _, v := range vectors {
		var id ID
		hex.Decode(id[:], []byte(v.id))
		ip := netip.MustParseAddr(v.ip)
		if !IsSecureID(id, ip) {
			t.Errorf("%s %s: not accepted", v.ip, v.id)
		}
		id[0] ^= 0x80
		if IsSecureID(id, ip) {
			t.Errorf("%s: a changed id is accepted", v.ip)
		}
		for range 20 {
			if s := SecureID(ip); !IsSecureID(s, ip) {
				t.Errorf("SecureID(%s) = %s is not secure", ip, s)
			}
		}
	}
	ip6 := netip.MustParseAddr("2001:db8:1234:5678::1")
	if s := SecureID(ip6); !IsSecureID(s, ip6) {
		t.Errorf("SecureID(%s) = %s is not secure", ip6, s)
	}
	if !IsSecureID(RandomID(), netip.MustParseAddr("127.0.0.1")) {
		t.Error("loopback is not exempt")
	}
}

func TestDistance(t *testing.T) {
	var a, b, c ID
	b[19] = 1
	c[0] = 0x80
	if !closer(a, b, c) || closer(a, c, b) || closer(a, b, b) {
		t.Error("closer wrong")
	}
	if n := commonPrefixLen(a, c); n != 0 {
		t.Errorf("commonPrefixLen = %d", n)
	}
	if n := commonPrefixLen(a, b); n != 159 {
		t.Errorf("commonPrefixLen = %d", n)
	}
	if n := commonPrefixLen(a, a); n != 160 {
		t.Errorf("commonPrefixLen = %d", n)
	}
	p := RandomID()
	for n := range 161 {
		if got := commonPrefixLen(randomIDWithPrefix(p, n), p); got < n {
			t.Errorf("randomIDWithPrefix(%d) shares %d bits", n, got)
		}
	}
}
