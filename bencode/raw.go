package bencode

// RawMessage is a raw encoded bencode value. Decoding into a RawMessage
// keeps the exact bytes of the value as they appeared in the input, even
// when they are not canonical; this is how the info dictionary of a
// .torrent is kept so that its hash can be computed. Encoding a RawMessage
// writes its bytes unchanged after checking that they hold one valid value.
// A struct field holding an empty RawMessage is left out when encoding.
type RawMessage []byte

// Marshaler is implemented by types that encode themselves into bencode.
// MarshalBencode must return exactly one valid bencoded value.
type Marshaler interface {
	MarshalBencode() ([]byte, error)
}

// Unmarshaler is implemented by types that decode a bencode representation
// of themselves. UnmarshalBencode receives the bytes of exactly one value,
// already checked to be valid bencode. It must copy the data if it keeps it
// after returning.
type Unmarshaler interface {
	UnmarshalBencode([]byte) error
}
