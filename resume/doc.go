// Package resume keeps what a BitTorrent client must remember about a
// torrent between runs: which pieces are verified and durable, how the files
// looked when that was recorded (sizes and modification times), the file
// priorities, trackers and transfer totals. With it a client restarts a
// torrent at once instead of hashing every byte again.
//
// # Trust
//
// Resume data is a claim about files that anything may have changed since,
// so it is never trusted blindly. Decode rejects a file that is truncated,
// corrupt (its SHA-256 checksum does not match), of an unknown version, or
// inconsistent in itself. Plan then compares it with the torrent (info hash,
// piece length, file lengths: a foreign or mismatching record is rejected
// with ErrForeign or ErrMismatch, and the caller checks everything) and with
// the files on disk now (storage.Store.Stat and PartStat): a file whose
// existence, size or modification time changed makes every piece touching it
// suspect, and those pieces are checked again; only the remaining recorded
// pieces are trusted. (An edit that keeps a file's size and restores its
// modification time goes unseen, as in every client that resumes this way;
// a hash check on demand finds it.)
//
// The engine upholds the other half of the bargain: a piece is recorded as
// verified only after storage.Store.Sync has made it durable. The engine
// takes the snapshot of verified pieces first, then syncs, then stats the
// files, then writes the record. A crash at any moment therefore leaves a
// record whose pieces are all on disk; pieces written after the snapshot are
// not in it and are fetched (or, when their file's time changed, found by
// the check) again.
//
// # Format
//
// A resume file is a bencoded dictionary with three keys: "version" (1),
// "data" (a byte string holding the bencoded record) and "sha256" (the
// SHA-256 of the data bytes). The checksum is verified before the record is
// parsed. The record's keys are documented on the unexported wire types in
// resume.go; times are Unix nanoseconds, the verified pieces a bitfield as
// the wire protocol packs it.
//
// # Writing
//
// WriteFile replaces a file atomically and durably: the bytes go to a
// temporary file in the same directory, which is fsynced, renamed over the
// target, and the directory fsynced. A reader sees the old record or the new
// one, never a mixture, whatever moment the process or the machine dies.
//
// # The state directory
//
// Dir is a client's state directory: for each torrent, <infohash>.torrent
// (the metainfo, written once) and <infohash>.resume (rewritten as the
// torrent progresses). A client lists the directory to restore the torrents
// it had. Plain files were chosen over an embedded database (bbolt, SQLite):
// the records are independent, each is rewritten whole and atomically by
// rename, nothing queries across them, and one damaged file loses one
// torrent's shortcut rather than the whole store; they need no dependency,
// no cgo and no lock file, and a user can inspect, back up or delete one
// torrent's state with ordinary tools. DefaultDir follows the XDG base
// directory rules: $XDG_STATE_HOME/bt, else ~/.local/state/bt (on systems
// other than Linux and the BSDs, os.UserConfigDir()/bt).
package resume
