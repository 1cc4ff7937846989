// Package storage keeps a torrent's data on disk: the files of one torrent
// under a download directory, addressed by piece or by torrent offset.
//
// A Store is opened on a download directory with the torrent's
// metainfo.Layout (pieces, files and their offsets) and its piece hashes:
//
//	s, err := storage.Open(dir, info.Layout(), func(i int) [20]byte { return info.PieceHash(i) },
//		storage.Options{InfoHash: m.InfoHash, FilePriorities: prios})
//
// For the engine:
//
//   - WritePiece(i, data) stores a whole piece the engine has verified in
//     memory; WriteAt/ReadAt address the torrent's byte stream directly.
//   - ReadBlock(i, begin, p) serves a peer's request; ReadPiece reads a
//     whole piece.
//   - VerifyPiece(i) reads and hashes one piece; Check(ctx, pieces, fn)
//     hash-checks many (nil: all) in parallel, for `bt seed`, a recheck or
//     pieces whose files changed since the resume data was written.
//   - SetFilePriority/FilePriority: 0 skips a file (see below).
//   - Sync before recording completion; Close at the end.
//   - Stat and PartStat give sizes and modification times for resume data;
//     DropHandles forgets open files after the engine learns they changed.
//   - errors.Is(err, ErrNotPresent) means the piece is missing; any other
//     error (Fatal(err)) should stop the torrent with the error reported,
//     never loop re-requesting: ErrNoSpace, ErrPermission, I/O errors.
//
// # Guarantees
//
// Nothing is read or written outside the download directory, whatever the
// torrent says: Open rejects unsafe paths ("..", absolute paths, separators
// inside an element, NUL, collisions), and every access goes through an
// os.Root opened on the directory, which also refuses symbolic links planted
// inside the directory that point out of it.
//
// Files are created on their first write, with their directories, and
// extended to their full length with Truncate, so they are sparse: space is
// taken only by bytes written. Pad files (BEP 47) are never created: their
// bytes read as zeros and writes to them are dropped; BEP 47 symbolic links
// are never created either. Zero-length files are
// created by the first Sync after any write.
//
// Reads of a file that does not exist, or is shorter than the torrent says,
// fail with an error wrapping ErrNotPresent: the piece is missing. A region
// never written inside an existing file reads as zeros (a hole), which fails
// its hash check. All other errors are fatal to the torrent (see Fatal):
// ErrNoSpace for a full disk, ErrPermission for refused access, and plain
// I/O errors; errors are *Error values naming the operation and the file.
//
// Durability: WritePiece leaves data in the page cache. Sync fsyncs every
// file written since the last Sync and the directories of created files; the
// engine must call Sync before it records a piece as complete in resume
// data. Close syncs too.
//
// # Concurrency
//
// All methods are safe for concurrent use. Reads and writes are positional
// (pread/pwrite) on shared handles from a bounded LRU pool (Options
// MaxOpenFiles, default 64); no lock is held across I/O except per file:
// moving a skipped file's data out of the part file holds that file's lock.
//
// # Many torrents
//
// Stores may share one FilePool (Options.Files): a client with thousands of
// torrents keeps at most the pool's bound of files open in all, the
// download directories included, closing the least recently used idle
// handle to open another. An open that meets the process's descriptor
// limit (EMFILE) closes an idle handle or waits for one, and tries again,
// rather than failing the torrent.
//
// # Skipped files and the part file
//
// A file with priority 0 (SetFilePriority) that is not on disk is in part
// mode: the bytes it owns in pieces shared with wanted files are written to
// a single sparse part file in the download directory (".<infohash>.parts"),
// at their torrent offsets, rather than into a file the user did not ask
// for. When its priority is raised, those bytes move into the real file.
// The part file is indexed by position (a byte lives at its torrent offset,
// in a sparse file), so resume data needs no part-file index: recording the
// verified pieces, Stat and PartStat is enough. Set Options.InfoHash so two
// torrents in one directory get distinct part files.
package storage
