package resume

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncfs makes every file of f's file system durable (syncfs(2)).
func syncfs(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	return serr
}
