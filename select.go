package bt

// File priorities. A piece takes the highest priority of the files it
// touches; the picker serves higher priorities first (rarest first within
// one priority), and PrioritySkip files are not downloaded: their pieces
// shared with wanted files are, and the skipped file's bytes of them live in
// the part file (see package storage), not in a file the user did not ask
// for. Torrent.SetFilePriority takes effect at once.
const (
	PrioritySkip   = 0 // do not download
	PriorityLow    = 1
	PriorityNormal = 4 // the default
	PriorityHigh   = 7
	MaxPriority    = 7
)
