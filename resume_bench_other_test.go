//go:build !linux

package bt

import "errors"

func dropCache(root string) error { return errors.New("dropping the page cache needs Linux") }
