// Package mse implements Message Stream Encryption (MSE, also called
// protocol encryption, PE): the obfuscated handshake and RC4 stream that
// libtorrent, Transmission, Vuze and most other clients speak in front of
// the BitTorrent handshake. It turns a net.Conn into a net.Conn, whatever
// the transport, so it sits below package wire.
//
// # The handshake
//
// The initiator A (Client) and the receiver B (Server) exchange
// Diffie-Hellman keys over the 768-bit prime with generator 2 (random
// 160-bit private keys), each followed by 0–512 bytes of random padding.
// With the shared secret S and the torrent's info hash as SKEY:
//
//	1 A→B  Ya, PadA
//	2 B→A  Yb, PadB
//	3 A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//	       ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//	4 B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), then the stream
//	5 A→B  the stream
//
// HASH is SHA-1, VC eight zero bytes, ENCRYPT RC4 keyed HASH('keyA', S,
// SKEY) from A and HASH('keyB', S, SKEY) from B with the first 1,024
// bytes of each keystream discarded. crypto_provide offers Plaintext
// and/or RC4 for the stream after the handshake; crypto_select picks one.
// IA, the initial payload, carries A's BitTorrent handshake so that an
// encrypted connection costs no round trip more than a plaintext one: the
// first Write on a Client is sent as IA.
//
// The receiver learns the torrent from HASH('req2', SKEY): Config.Find
// maps it (SKeyHash) to the info hash of any torrent the client serves,
// so one port serves all. Server also recognises a plaintext BitTorrent
// handshake by its first 20 bytes and replays it (Conn.Plain), so one port
// serves encrypted and plaintext peers alike.
//
// # Bounds
//
// A hostile peer cannot make either side allocate or wait beyond fixed
// limits: padding longer than 512 bytes is refused, the receiver gives up
// its search for HASH('req1', S) after 628 bytes from the start and the
// initiator its search for the encrypted VC after 616, a public key of 0,
// 1 or P-1 is refused, nothing the peer sends sizes a buffer (the initial
// payload is decrypted as it is read, not gathered), and the caller's
// deadline (or Server's context) bounds the time.
//
// # Cost
//
// RC4 from the standard library runs at about 580 MB/s on one core of
// the machine this was written on (BenchmarkRC4): about 1.8 CPU-seconds
// per GiB on each side, more than the 1 s/GiB one would like. RC4 is
// serial byte by byte and the standard library's loop is already close to
// what Go can do, so this package uses it; the engine's default policy
// keeps the cost away unless the peer asks for RC4. A Server with
// PreferPlaintext and a Client offering both methods keep the obfuscated
// handshake but a plaintext stream, as libtorrent does by default. The
// engine's transfer benchmark (BT_BENCH=1 BT_BENCH_RC4=1, see the README)
// reports MB/s and CPU seconds per GB with and without RC4.
package mse
