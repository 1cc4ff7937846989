package storage

// Layout and FileEntry mirror metainfo.Layout and metainfo.FileEntry from the
// package contract until package metainfo lands; they are then replaced by
// the metainfo types.
type Layout struct {
	PieceLength, TotalLength int64
	NumPieces                int
	Files                    []FileEntry
}

// FileEntry mirrors metainfo.FileEntry.
type FileEntry struct {
	Index  int
	Path   []string
	Length int64
	Offset int64
	Pad    bool
}
