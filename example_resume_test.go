package bt_test

import (
	"fmt"
	"log"

	"github.com/bt-go/bt"
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
