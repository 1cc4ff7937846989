package bt_test

import (
	"fmt"
	"log"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// A client with a state directory remembers its torrents and their
// verified pieces: created again on the same directory, it restarts them
// without hashing their data again.
func ExampleConfig_stateDir() {
	dir, err := resume.DefaultDir() // $XDG_STATE_HOME/bt or ~/.local/state/bt
	if err != nil {
		log.Fatal(err)
	}
	c, err := bt.NewClient(bt.Config{StateDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, t := range c.Torrents() {
		fmt.Println("restored", t.Name(), t.State())
	}
}

// SelectFiles turns --only/--skip patterns into file priorities: indices
// as `bt info` shows them, ranges, or globs on the paths.
func ExampleSelectFiles() {
	layout := &metainfo.Layout{PieceLength: 1 << 18, Files: []metainfo.FileEntry{
		{Index: 0, Path: []string{"show", "e01.mkv"}, Length: 1 << 20},
		{Index: 1, Path: []string{"show", "e01.srt"}, Length: 1 << 10},
		{Index: 2, Path: []string{"show", "e02.mkv"}, Length: 1 << 20},
		{Index: 3, Path: []string{"show", "sample", "s.mkv"}, Length: 1 << 10},
	}}
	prios, err := bt.SelectFiles(layout, true, []string{"*.mkv", "1"}, []string{"sample/*"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(prios)
	// Output: [4 4 4 0]
}
