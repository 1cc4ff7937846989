package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/bt-go/bt"
)

// versionLine is what bt --version prints: the version peers see.
func versionLine() string {
	return fmt.Sprintf("bt %s (peer id %s)", bt.Version, bt.PeerIDPrefix)
}

// buildInfo describes the build: Go version, platform, module version and
// the source revision when the binary was built from a checkout.
func buildInfo() string {
	var b strings.Builder
	fmt.Fprintf(&b, "built with %s for %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b.String()
	}
	fmt.Fprintf(&b, "module %s %s\n", info.Main.Path, info.Main.Version)
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		fmt.Fprintf(&b, "revision %s", rev)
		if at != "" {
			fmt.Fprintf(&b, " of %s", at)
		}
		if modified == "true" {
			b.WriteString(", with local changes")
		}
		b.WriteString("\n")
	}
	return b.String()
}
