package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Hash is a SHA-1 digest: a v1 info hash or a piece hash.
type Hash [20]byte

// ErrInvalidHash reports a hash that is neither 40 hexadecimal digits nor 32
// base32 characters.
var ErrInvalidHash = errors.New("metainfo: invalid hash")

// String returns the hash as 40 lowercase hexadecimal digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether every byte of h is zero.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as lowercase hexadecimal (for encoding/json).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes h from hexadecimal or base32.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses a hash written as 40 hexadecimal digits (either case) or
// as 32 characters of RFC 4648 base32 (either case), the two forms magnet
// links use.
func ParseHash(s string) (Hash, error) {
	var h Hash
	switch len(s) {
	case 40:
		if _, err := hex.Decode(h[:], []byte(s)); err != nil {
			return Hash{}, fmt.Errorf("%w: %q is not hexadecimal", ErrInvalidHash, s)
		}
	case 32:
		n, err := base32.StdEncoding.Decode(h[:], []byte(strings.ToUpper(s)))
		if err != nil || n != 20 {
			return Hash{}, fmt.Errorf("%w: %q is not base32", ErrInvalidHash, s)
		}
	default:
		return Hash{}, fmt.Errorf("%w: %q has %d characters, want 40 (hex) or 32 (base32)", ErrInvalidHash, truncate(s, 64), len(s))
	}
	return h, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
