package resume

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
)

// Version is the format version Encode writes and Decode accepts.
const Version = 1

// Limits Decode enforces on hostile input.
const (
	// MaxSize bounds an encoded resume file.
	MaxSize = 64 << 20
	// MaxPieces bounds the piece count of a record.
	MaxPieces = 1 << 26
	// MaxFiles bounds the file count of a record.
	MaxFiles = 1 << 20
	// MaxPriority bounds a file priority.
	MaxPriority = 255
)

// Errors of Decode and Plan. Each means "do not use this record": the
// torrent is checked in full instead.
var (
	// ErrCorrupt: the file is truncated, damaged (checksum mismatch) or
	// inconsistent in itself.
	ErrCorrupt = errors.New("resume: corrupt resume data")
	// ErrVersion: the file was written by an unknown version of the format.
	ErrVersion = errors.New("resume: unsupported resume data version")
	// ErrForeign: the record belongs to another torrent (info hash).
	ErrForeign = errors.New("resume: resume data of another torrent")
	// ErrMismatch: the record does not fit the torrent (pieces, files).
	ErrMismatch = errors.New("resume: resume data does not match the torrent")
)

// Data is the resume record of one torrent.
type Data struct {
	InfoHash metainfo.Hash
	Name     string // the torrent's name, for people reading a listing
	Dir      string // the download directory
	State    string // run state to restore: "started", "paused" or "stopped"
	// Magnet is the magnet link of a torrent whose metadata is not known
	// yet; then the record has no pieces or files.
	Magnet string

	PieceLength int64
	NumPieces   int
	// Have holds the pieces verified and durable (synced) on disk.
	Have bitfield.Bitfield
	// Files describe the files as they were when Have was recorded,
	// indexed like metainfo.Layout.Files.
	Files []File
	// Part describes the part file (storage.Store.PartStat).
	Part File

	Trackers   [][]string // announce URLs by tier
	Uploaded   int64      // payload bytes uploaded, all sessions
	Downloaded int64      // payload bytes downloaded, all sessions

	AddedAt     time.Time
	CompletedAt time.Time // zero until complete
	SavedAt     time.Time
}

// File is one file of a record.
type File struct {
	Length   int64 // length in the torrent
	Priority int   // 0: skipped
	Exists   bool  // the file existed on disk
	Size     int64 // its size then
	ModTime  time.Time
	InPart   bool // skipped, its bytes of shared pieces in the part file
}

// wireData is the record as bencoded: the "data" of the envelope.
type wireData struct {
	InfoHash    []byte     `bencode:"info hash"`
	Name        string     `bencode:"name,omitempty"`
	Dir         string     `bencode:"dir,omitempty"`
	State       string     `bencode:"state,omitempty"`
	Magnet      string     `bencode:"magnet,omitempty"`
	PieceLength int64      `bencode:"piece length"`
	NumPieces   int        `bencode:"pieces"`
	Have        []byte     `bencode:"have"`
	Files       []wireFile `bencode:"files"`
	Part        wireFile   `bencode:"part"`
	Trackers    [][]string `bencode:"trackers,omitempty"`
	Uploaded    int64      `bencode:"uploaded"`
	Downloaded  int64      `bencode:"downloaded"`
	AddedAt     int64      `bencode:"added,omitempty"`
	CompletedAt int64      `bencode:"completed,omitempty"`
	SavedAt     int64      `bencode:"saved,omitempty"`
}

type wireFile struct {
	Length   int64 `bencode:"length"`
	Priority int   `bencode:"priority"`
	Exists   bool  `bencode:"exists"`
	Size     int64 `bencode:"size"`
	ModTime  int64 `bencode:"mtime"`
	InPart   bool  `bencode:"in part"`
}

// envelope carries the record and its checksum.
type envelope struct {
	Version int    `bencode:"version"`
	Data    []byte `bencode:"data"`
	SHA256  []byte `bencode:"sha256"`
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func toWireFile(f File) wireFile {
	return wireFile{Length: f.Length, Priority: f.Priority, Exists: f.Exists, Size: f.Size,
		ModTime: nanos(f.ModTime), InPart: f.InPart}
}

func fromWireFile(w wireFile) File {
	return File{Length: w.Length, Priority: w.Priority, Exists: w.Exists, Size: w.Size,
		ModTime: fromNanos(w.ModTime), InPart: w.InPart}
}

// Encode returns the resume file for d.
func (d *Data) Encode() ([]byte, error) {
	if d.Have.Len() != d.NumPieces {
		return nil, fmt.Errorf("resume: bitfield of %d pieces for %d", d.Have.Len(), d.NumPieces)
	}
	w := wireData{
		InfoHash: d.InfoHash[:], Name: d.Name, Dir: d.Dir, State: d.State, Magnet: d.Magnet,
		PieceLength: d.PieceLength, NumPieces: d.NumPieces, Have: d.Have.Bytes(),
		Files: make([]wireFile, len(d.Files)), Part: toWireFile(d.Part), Trackers: d.Trackers,
		Uploaded: d.Uploaded, Downloaded: d.Downloaded,
		AddedAt: nanos(d.AddedAt), CompletedAt: nanos(d.CompletedAt), SavedAt: nanos(d.SavedAt),
	}
	if w.Have == nil {
		w.Have = []byte{}
	}
	for i, f := range d.Files {
		w.Files[i] = toWireFile(f)
	}
	data, err := bencode.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("resume: encoding: %w", err)
	}
	sum := sha256.Sum256(data)
	out, err := bencode.Marshal(envelope{Version: Version, Data: data, SHA256: sum[:]})
	if err != nil {
		return nil, fmt.Errorf("resume: encoding: %w", err)
	}
	return out, nil
}

// Decode parses a resume file. It verifies the checksum before parsing
// the record and the record's consistency after; any failure wraps
// ErrCorrupt (or ErrVersion).
func Decode(p []byte) (*Data, error) {
	if len(p) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(p))
	}
	var env envelope
	if err := bencode.Unmarshal(p, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if env.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, env.Version)
	}
	sum := sha256.Sum256(env.Data)
	if len(env.SHA256) != len(sum) || [32]byte(env.SHA256) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	var w wireData
	if err := bencode.Unmarshal(env.Data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return w.data()
}

func (w *wireData) data() (*Data, error) {
	bad := func(format string, args ...any) (*Data, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	if len(w.InfoHash) != len(metainfo.Hash{}) {
		return bad("info hash of %d bytes", len(w.InfoHash))
	}
	if w.NumPieces < 0 || w.NumPieces > MaxPieces {
		return bad("%d pieces", w.NumPieces)
	}
	if w.PieceLength < 0 || (w.NumPieces > 0 && w.PieceLength == 0) {
		return bad("piece length %d", w.PieceLength)
	}
	if len(w.Files) > MaxFiles {
		return bad("%d files", len(w.Files))
	}
	have, err := bitfield.FromBytes(w.Have, w.NumPieces)
	if err != nil {
		return bad("%v", err)
	}
	switch w.State {
	case "", "started", "paused", "stopped":
	default:
		return bad("state %q", w.State)
	}
	d := &Data{
		InfoHash: metainfo.Hash(w.InfoHash), Name: w.Name, Dir: w.Dir, State: w.State, Magnet: w.Magnet,
		PieceLength: w.PieceLength, NumPieces: w.NumPieces, Have: have,
		Files: make([]File, len(w.Files)), Part: fromWireFile(w.Part), Trackers: w.Trackers,
		Uploaded: w.Uploaded, Downloaded: w.Downloaded,
		AddedAt: fromNanos(w.AddedAt), CompletedAt: fromNanos(w.CompletedAt), SavedAt: fromNanos(w.SavedAt),
	}
	var total int64
	for i, wf := range w.Files {
		if wf.Length < 0 || wf.Size < 0 || wf.Priority < 0 || wf.Priority > MaxPriority {
			return bad("file %d: length %d, size %d, priority %d", i, wf.Length, wf.Size, wf.Priority)
		}
		if total += wf.Length; total < 0 {
			return bad("total length overflows")
		}
		d.Files[i] = fromWireFile(wf)
	}
	if w.Part.Size < 0 || w.Uploaded < 0 || w.Downloaded < 0 {
		return bad("negative size or total")
	}
	// The pieces must cover the files exactly: n-1 full pieces and a last
	// one of 1..PieceLength bytes.
	var n int64
	if w.PieceLength > 0 {
		n = total / w.PieceLength
		if total%w.PieceLength != 0 {
			n++
		}
	}
	if len(w.Files) > 0 && n != int64(w.NumPieces) {
		return bad("%d pieces of %d bytes for %d bytes", w.NumPieces, w.PieceLength, total)
	}
	return d, nil
}
