// Package bencode encodes and decodes bencode, the serialization format of
// BitTorrent (BEP 3): .torrent files, tracker responses, DHT messages and
// the extension protocol's dictionaries.
//
// # Types
//
// Bencode has four kinds of value: integers, byte strings, lists and dicts
// (dictionaries with byte-string keys). Marshal and Unmarshal map them to
// Go values as follows:
//
//   - integer ↔ every int and uint type. Decoding checks that the value
//     fits the target type; one that does not gives an *UnmarshalTypeError.
//     bool ↔ the integers 0 and 1.
//   - byte string ↔ string, []byte, and [N]byte (whose length must match
//     exactly).
//   - list ↔ slices and arrays of any supported type.
//   - dict ↔ map[string]T (any string-kind key type) and structs. Struct
//     fields are keyed by their name, or by the name in a
//     `bencode:"name"` tag; `bencode:"name,omitempty"` leaves out a zero
//     value when encoding, and `bencode:"-"` ignores the field. Fields of
//     embedded structs are promoted as encoding/json does. Keys that match
//     no field are skipped when decoding.
//   - any value ↔ an empty interface: decoding stores int64, string, []any
//     or map[string]any.
//   - RawMessage keeps the exact bytes of one value, such as the info dict
//     whose SHA-1 is a torrent's info hash.
//   - Types implementing Marshaler and Unmarshaler encode and decode
//     themselves.
//
// Bencode has no null: nil pointers and interfaces in struct fields are
// left out when encoding, and a nil pointer elsewhere is an error. Floats,
// complex numbers, channels and functions have no bencode form.
//
// # Canonical form and strictness
//
// Marshal always writes canonical bencode: dict keys sorted as raw bytes,
// with no duplicates, so encoding the same value always gives the same
// bytes. Unmarshal accepts dicts whose keys are out of order, since real
// torrents contain them, and when a key repeats the last one wins.
// UnmarshalStrict and Decoder.Strict reject such input instead, with a
// *SyntaxError giving the offset of the offending key.
//
// In every mode, input that is not bencode is rejected with a *SyntaxError
// holding the offset of the problem: integers with leading zeros ("i03e"),
// negative zero ("i-0e"), no digits ("ie", "i-e"), string lengths with
// leading zeros, lengths beyond the end of the input, non-string dict
// keys, truncated input (the error then wraps io.ErrUnexpectedEOF), and
// bytes after the value (Unmarshal; UnmarshalPrefix returns how much it
// used instead).
//
// # Limits
//
// Hostile input is expected. Lists and dicts may nest at most
// DefaultMaxDepth (100) levels, as decoding recurses and Go cannot recover
// from stack exhaustion; Decoder.SetMaxDepth changes the limit. A string's
// claimed length is checked against the bytes actually present before
// anything is allocated, so memory use is bounded by the input's size.
// Integers must fit their Go target; decoding into an interface, they must
// fit in an int64. A Decoder reading a stream buffers only what it has
// received, resumes scanning where it stopped when more arrives (so a value
// delivered in many small reads costs time linear in its size), and can
// refuse values above a size with Decoder.SetMaxSize.
//
// # Speed
//
// Decoding a .torrent and the extension protocol's small dictionaries are
// hot paths, so:
//
//   - decoders and encoders are built once per Go type and cached; struct
//     fields are kept sorted, so the usual sorted input matches them in
//     order without searching;
//   - strings, short byte strings and string lists (file paths) are
//     carved from a few chunks per call instead of being allocated one by
//     one; a chunk stays alive while any value carved from it does, and
//     chunks are bounded in size;
//   - typed lists are gathered in a pooled scratch slice and allocated once
//     at their final size;
//   - integer, string, []byte and []string struct fields, and maps from
//     string to int, int64, string or any, are handled without reflection.
//
// Decoded values never alias the input: every byte string is copied, so a
// caller may reuse its buffer. Decoding a 100 KB, 500-file torrent into a
// struct takes 16 allocations; encoding takes one. Benchmarks are in
// this package, and comparisons with other libraries in the separate
// module under bench/.
package bencode
