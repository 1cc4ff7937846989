package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// testDir is the temporary directory TestMain removes at the end.
var testDir string

// TestMain keeps the commands' default state and config directories inside
// a temporary directory, so no test writes into the user's own, and keeps
// every bt process of the tests off the public DHT. The commands run in
// this process must leave no goroutine behind.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bt-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	// The go build of the tests that run bt as a process keeps using the
	// user's build cache (its default lives under XDG_CACHE_HOME, moved
	// below): with an empty cache it took minutes on a loaded machine.
	if os.Getenv("GOCACHE") == "" {
		if c, err := os.UserCacheDir(); err == nil {
			os.Setenv("GOCACHE", filepath.Join(c, "go-build"))
		}
	}
	os.Setenv("XDG_STATE_HOME", dir+"/state")
	os.Setenv("XDG_CONFIG_HOME", dir+"/config")
	os.Setenv("XDG_CACHE_HOME", dir+"/cache")
	// No test, nor any bt process a test starts, joins the public DHT.
	os.Setenv("BT_DHT_BOOTSTRAP", "")
	publicDHTBootstrap = nil
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
