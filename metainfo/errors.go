package metainfo

import "errors"

// Errors returned by Parse, ParseInfo and LoadFile, wrapped with detail.
// Callers branch on them with errors.Is.
var (
	// ErrNotTorrent: the data is not a bencoded dictionary.
	ErrNotTorrent = errors.New("metainfo: not a torrent file")
	// ErrNoInfo: the info dictionary is missing or is not a dictionary.
	ErrNoInfo = errors.New("metainfo: missing or invalid info dictionary")
	// ErrName: the torrent's name is missing, not a string or unusable.
	ErrName = errors.New("metainfo: missing or invalid name")
	// ErrPieceLength: piece length missing, not positive, above
	// MaxPieceLength, or not a power of two in a hybrid torrent.
	ErrPieceLength = errors.New("metainfo: invalid piece length")
	// ErrPieces: pieces missing or not a multiple of 20 bytes long.
	ErrPieces = errors.New("metainfo: invalid pieces")
	// ErrPieceCount: the number of piece hashes does not match the total length.
	ErrPieceCount = errors.New("metainfo: piece count does not match the total length")
	// ErrTooManyPieces: more than MaxPieces pieces.
	ErrTooManyPieces = errors.New("metainfo: too many pieces")
	// ErrLength: a length is missing, negative or makes the total overflow,
	// or both length and files are present.
	ErrLength = errors.New("metainfo: invalid length")
	// ErrNoFiles: the torrent has no files, or only empty ones.
	ErrNoFiles = errors.New("metainfo: no data in torrent")
	// ErrTooManyFiles: more than MaxFiles files.
	ErrTooManyFiles = errors.New("metainfo: too many files")
	// ErrPath: a file's path is missing or refused by the path policy (see
	// the package documentation).
	ErrPath = errors.New("metainfo: invalid file path")
	// ErrV2Only: a BitTorrent v2 torrent without a v1 side, which bt does
	// not support.
	ErrV2Only = errors.New("metainfo: v2-only torrents are not supported")
	// ErrVersion: an unknown meta version.
	ErrVersion = errors.New("metainfo: unsupported meta version")
	// ErrHybrid: the v1 and v2 sides of a hybrid torrent disagree.
	ErrHybrid = errors.New("metainfo: v1 and v2 metadata of a hybrid torrent do not match")
	// ErrTooLarge: the .torrent file is larger than MaxTorrentSize.
	ErrTooLarge = errors.New("metainfo: torrent file too large")
)

// Limits applied while parsing.
const (
	// MaxPieceLength is the largest accepted piece length, 512 MiB. No
	// client creates larger pieces; a peer could not hold one in memory.
	MaxPieceLength = 512 << 20
	// MaxPieces is the largest accepted number of pieces, 2^21 (the hashes
	// alone are then 40 MiB). libtorrent's default limit is the same.
	MaxPieces = 1 << 21
	// MaxFiles is the largest accepted number of files (pad files included).
	MaxFiles = 1 << 20
	// MaxTorrentSize is the largest .torrent file LoadFile reads, 64 MiB.
	MaxTorrentSize = 64 << 20
	// MaxPathDepth is the most elements a file's path may have, 128. Real
	// torrents nest a few levels; a deeper path only costs time and
	// directories.
	MaxPathDepth = 128
	// MaxPathLength bounds the length in bytes of a file's path under the
	// download directory (the torrent's name and the path's elements, each
	// counted at most 255 bytes as they are shortened, joined by '/'):
	// 4095, so it fits in Linux's PATH_MAX of 4096 with its NUL. A longer
	// path could not be opened on Linux even from the root directory.
	MaxPathLength = 4095
)
