//go:build unix

package main

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

type lockFile struct {
	f    *os.File
	path string
}

// lockPath takes an exclusive flock on the file at p, creating it, and
// writes our process id into it. If another process holds it, it returns
// errLocked and that process's id.
func lockPath(p string) (*lockFile, int, error) {
	for range 5 {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, 0, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, readPID(p), errLocked
			}
			return nil, 0, err
		}
		// The holder before us may have removed the file between our
		// open and our lock: then we locked a file nobody else will see.
		var held, named unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) != nil || unix.Stat(p, &named) != nil || held.Ino != named.Ino || held.Dev != named.Dev {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &lockFile{f: f, path: p}, 0, nil
	}
	return nil, 0, errors.New("lock file keeps changing")
}

func (l *lockFile) release() {
	os.Remove(l.path)
	l.f.Close()
}
