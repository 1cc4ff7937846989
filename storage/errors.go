package storage

import (
	"errors"
	"io/fs"
	"syscall"
)

// Sentinel errors. Errors returned by a Store wrap one of these where it
// applies, so callers branch with errors.Is:
//
//   - ErrNotPresent: the data is not on disk (a file that does not exist or is
//     shorter than the torrent says). The piece is simply missing; download it.
//   - ErrNoSpace: the file system is full (ENOSPC) or over quota (EDQUOT).
//     Stop the torrent and report; retry once space returns.
//   - ErrPermission: the file system refused access (EACCES, EPERM, EROFS).
//     Stop the torrent and report.
//   - ErrClosed: the Store was closed.
//
// Any other error (an I/O error, a path that escapes the download directory)
// is fatal as well; see Fatal.
var (
	ErrNotPresent = errors.New("storage: data not present")
	ErrNoSpace    = errors.New("storage: no space left on device")
	ErrPermission = errors.New("storage: permission denied")
	ErrClosed     = errors.New("storage: store closed")
)

// errShort is the cause recorded when a file is shorter than its torrent
// length says, so a read would run past its end.
var errShort = errors.New("file shorter than expected")

// errReadOnlyFS is the error of a write open on a read-only file system.
var errReadOnlyFS error = syscall.EROFS

// Error records a failed file operation: what was done, to which file
// (relative to the download directory) and why.
type Error struct {
	Op   string // "open", "read", "write", "create", "truncate", "sync", ...
	Path string // slash-separated path under the download directory
	Err  error  // the underlying error
}

func (e *Error) Error() string {
	err := e.Err
	// The *fs.PathError of package os repeats the operation and the
	// absolute path; say them once.
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	return "storage: " + e.Op + " " + e.Path + ": " + err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether the error belongs to one of the sentinel classes
// ErrNotPresent, ErrNoSpace or ErrPermission.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotPresent:
		return errors.Is(e.Err, fs.ErrNotExist) || errors.Is(e.Err, errShort)
	case ErrNoSpace:
		return errors.Is(e.Err, syscall.ENOSPC) || isQuota(e.Err)
	case ErrPermission:
		return errors.Is(e.Err, fs.ErrPermission) || errors.Is(e.Err, syscall.EROFS)
	}
	return false
}

// Fatal reports whether err should stop the torrent: any error other than
// ErrNotPresent (which only means a piece is missing) is fatal.
func Fatal(err error) bool {
	return err != nil && !errors.Is(err, ErrNotPresent)
}
