// Package metainfo reads, validates and writes .torrent files (BEP 3),
// computes the piece ↔ file layout, parses and formats magnet links
// (BEP 9), and creates torrents from files on disk.
//
// # Torrents
//
// Parse and LoadFile read v1 torrents, single- and multi-file, with BEP 12
// tracker tiers, BEP 19 web seeds (url-list as a string or a list), BEP 27
// private flag, BEP 47 file attributes and pad files, and the optional
// fields (creation date, comment, created by, encoding, source). The info
// hash is the SHA-1 of the info dictionary's exact bytes, however they are
// ordered. Hybrid v1+v2 torrents (BEP 52, libtorrent 2.0's default) load by
// their v1 side once their v2 file tree is checked to describe the same
// files (Info.Hybrid records that they are hybrid); v2-only torrents are
// refused with ErrV2Only.
//
// Optional top-level fields of the wrong type are ignored, as other
// clients ignore them. The info dictionary is validated, each failure
// wrapping one of the Err values of this package:
//
//   - name missing, empty or containing NUL (ErrName);
//   - piece length missing, not positive, above MaxPieceLength (512 MiB),
//     or in a hybrid not a power of two of at least 16 KiB (ErrPieceLength);
//   - pieces missing (ErrPieces) or not a multiple of 20 bytes (ErrPieces);
//   - both or neither of length and files, a negative length, a total
//     that overflows int64 (ErrLength); an empty file list or a total of
//     zero bytes (ErrNoFiles); more than MaxFiles files (ErrTooManyFiles);
//   - more than MaxPieces pieces (ErrTooManyPieces), or a number of piece
//     hashes that does not match the total length (ErrPieceCount);
//   - fields of the wrong type (ErrMalformed).
//
// Memory use is bounded by the input's size: nothing is allocated from a
// count the input claims.
//
// # File paths
//
// Info keeps names and paths exactly as the torrent writes them. Layout
// gives the paths to use on disk, made only of safe relative elements.
// The policy, applied to the torrent's name and to every path element:
//
//   - Refused: a NUL byte anywhere in the name, a path or a symlink target
//     (the torrent is rejected with ErrName or ErrPath), a file other
//     than a pad file without a path, and a path (or symlink target) of
//     more than MaxPathDepth (128) elements or longer than MaxPathLength
//     (4095 bytes, Linux's PATH_MAX less its NUL) counting the name, a '/'
//     before each element and each element at most 255 bytes, as it will
//     be shortened. macOS's PATH_MAX (1024) and Windows' MAX_PATH (260,
//     without long-path support) are smaller: such paths are accepted and
//     fail with the file system's own error when written. No torrent of
//     libtorrent's test corpus comes near these limits.
//   - Removed: the separators '/' and '\' inside an element; then elements
//     that are empty, "." or ".." are dropped. A path left with no element
//     becomes "_"; a name left with nothing becomes the info hash in hex.
//     Absolute and climbing paths thus stay under the torrent's directory:
//     the elements ["/", "etc", "passwd"] give etc/passwd, ["..", "x"]
//     give x, and the single element "a/../b" gives a..b.
//   - Replaced by '_': invalid UTF-8, control characters (C0, DEL, C1) and
//     bidirectional formatting characters (U+061C, U+200E, U+200F,
//     U+202A–U+202E, U+2066–U+2069), which could disguise a file's type.
//   - Shortened: an element longer than 255 bytes is cut on a character
//     boundary, keeping a short extension.
//   - On Windows only: the characters <>:"|? and * become '_', trailing
//     dots and spaces are removed, and a reserved device name (CON, NUL,
//     COM1...) gets '_' appended ("con.txt" → "con_.txt").
//
// Paths are then made unique among the files that will exist on disk (pad
// files are never written): a file whose path repeats an earlier file's,
// or names a directory another file needs, is renamed by inserting ".N"
// before its extension ("a.txt" → "a.1.txt"), as libtorrent does. Names
// are compared byte for byte, or regardless of case on Windows and macOS,
// whose usual file systems ignore case. Symlinks (attr l) are listed with
// Symlink set and length 0; bt never creates links. Storage must still
// open files through os.Root under the download directory.
//
// With this policy bt's verdict on every torrent of libtorrent's test
// corpus (testdata/libtorrent) matches libtorrent 2.0.8's, the v2-only
// ones aside.
//
// # Magnet links
//
// ParseMagnet reads xt=urn:btih: (hex or base32), urn:btmh: (kept in
// InfoHashV2), dn, xl, tr, ws, x.pe and so (BEP 53 file selection);
// Magnet.String writes them back. Links are limited to MaxMagnetLength
// bytes and MaxMagnetParams parameters.
//
// # Creating torrents
//
// Create hashes a file or a directory into a new MetaInfo: files sorted
// by path, piece length chosen by PieceLengthFor unless given, pieces
// hashed on all cores while the files are read once in order.
package metainfo
