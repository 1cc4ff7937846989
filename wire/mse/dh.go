package mse

import (
	"crypto/rc4"
	"crypto/sha1"
	"errors"
	"io"
	"math/big"
)

// KeyLen is the length of a Diffie-Hellman public key and of the shared
// secret on the wire: 768 bits, big-endian, zero-padded on the left.
const KeyLen = 96

// privLen is the length of our random private exponent: 160 bits, as the
// specification asks (at least 128).
const privLen = 20

// MaxPadLen bounds each of the four paddings (PadA to PadD).
const MaxPadLen = 512

// discard is how much of each RC4 keystream is thrown away before use.
const discard = 1024

// prime is the 768-bit safe prime of the specification (the Oakley group 1
// prime of RFC 2409); the generator is 2.
var prime, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)

var (
	two          = big.NewInt(2)
	primeMinus1  = new(big.Int).Sub(prime, big.NewInt(1))
	errPublicKey = errors.New("mse: peer's public key out of range")
)

// keyPair is one side's Diffie-Hellman key.
type keyPair struct {
	priv *big.Int
	pub  [KeyLen]byte
}

func newKeyPair(rnd io.Reader) (*keyPair, error) {
	var b [privLen]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return nil, err
	}
	k := &keyPair{priv: new(big.Int).SetBytes(b[:])}
	new(big.Int).Exp(two, k.priv, prime).FillBytes(k.pub[:])
	return k, nil
}

// secret returns the shared secret S with the peer's public key. A key of
// 0, 1 or P-1 and above (which would make S guessable) is refused.
func (k *keyPair) secret(peer []byte) ([KeyLen]byte, error) {
	var s [KeyLen]byte
	y := new(big.Int).SetBytes(peer)
	if y.Cmp(two) < 0 || y.Cmp(primeMinus1) >= 0 {
		return s, errPublicKey
	}
	new(big.Int).Exp(y, k.priv, prime).FillBytes(s[:])
	return s, nil
}

// hash is the specification's HASH: SHA-1 of the concatenated parts.
func hash(parts ...[]byte) [20]byte {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// SKeyHash returns HASH('req2', skey), the value an incoming handshake
// identifies its torrent by (after removing HASH('req3', S)). A receiver
// that serves many torrents keeps these in a map for Config.Find.
func SKeyHash(skey [20]byte) [20]byte { return hash([]byte("req2"), skey[:]) }

// newRC4 returns the RC4 cipher keyed HASH(name, S, SKEY) with the first
// 1,024 bytes of its keystream discarded.
func newRC4(name string, s *[KeyLen]byte, skey *[20]byte) *rc4.Cipher {
	key := hash([]byte(name), s[:], skey[:])
	c, _ := rc4.NewCipher(key[:]) // a 20-byte key is always valid
	var junk [discard]byte
	c.XORKeyStream(junk[:], junk[:])
	return c
}
