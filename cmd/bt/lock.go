package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A torrent is downloaded by one process at a time: bt download, bt cat,
// bt serve, bt seed and bt resume take a lock per torrent in the download
// directory (".<infohash>.lock", beside the ".<infohash>.parts" file) and,
// when there is one, in the state directory ("<infohash>.lock"), so that a
// second process neither writes the same files nor the same resume record.
// The locks are advisory (flock), released by the system when a process
// dies; the files hold the owner's process id.

// errLocked is returned when another process holds a torrent's lock.
var errLocked = errors.New("locked")

// torrentLock is the locks one process holds on one torrent.
type torrentLock struct {
	files []*lockFile
}

// lockTorrent takes ih's locks in dataDir and stateDir (either may be
// empty). name is the torrent's name for the error message.
func lockTorrent(name, ihHex, dataDir, stateDir string) (*torrentLock, error) {
	l := &torrentLock{}
	for _, p := range []string{
		dirLockPath(dataDir, "."+ihHex+".lock"),
		dirLockPath(stateDir, ihHex+".lock"),
	} {
		if p == "" {
			continue
		}
		f, pid, err := lockPath(p)
		if errors.Is(err, errLocked) {
			l.Unlock()
			if pid > 0 {
				return nil, fmt.Errorf("%s is already being downloaded by process %d (%s)", name, pid, lockDirOf(p))
			}
			return nil, fmt.Errorf("%s is already being downloaded by another process (%s)", name, lockDirOf(p))
		}
		if err != nil {
			// A directory that cannot be written fails later, with its
			// own message; the lock is not what to report.
			continue
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

func dirLockPath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

func lockDirOf(p string) string {
	d := filepath.Dir(p)
	if abs, err := filepath.Abs(d); err == nil {
		d = abs
	}
	if strings.HasPrefix(filepath.Base(p), ".") {
		return "into " + d
	}
	return "state directory " + d
}

// Unlock releases the locks and removes their files.
func (l *torrentLock) Unlock() {
	if l == nil {
		return
	}
	for _, f := range l.files {
		f.release()
	}
	l.files = nil
}

// readPID returns the process id written in a lock file, or 0.
func readPID(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
