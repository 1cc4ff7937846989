//go:build !linux

package resume

import (
	"errors"
	"os"
)

// syncfs is not available: WriteFiles fsyncs each file.
func syncfs(*os.File) error { return errors.ErrUnsupported }
