// Package trackerwire holds the byte formats shared by the tracker client and
// the tracker server: the packets of the UDP tracker protocol (BEP 15). Their
// compact peer lists (BEP 23 and BEP 7) use internal/compact, the codec the
// DHT and ut_pex share.
//
// Every decoder here is bounded by its input: it never allocates more than a
// small multiple of the bytes it was given, and it answers malformed input
// with an error, never a panic.
package trackerwire
