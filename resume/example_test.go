package resume_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/resume"
)

// A record survives a round trip through the state directory; a damaged
// one is rejected, never trusted.
func Example() {
	state, err := os.MkdirTemp("", "bt-state")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(state)
	dir, err := resume.Open(state)
	if err != nil {
		panic(err)
	}

	have := bitfield.New(4)
	have.Set(0)
	have.Set(2)
	ih := metainfo.Hash{0xab}
	rec := &resume.Data{InfoHash: ih, PieceLength: 16384, NumPieces: 4, Have: have,
		Files: []resume.File{{Length: 60000, Priority: 4}}}
	if err := dir.Save(rec); err != nil {
		panic(err)
	}
	got, err := dir.Load(ih)
	if err != nil {
		panic(err)
	}
	fmt.Println("verified pieces:", got.Have)

	// One flipped byte: the checksum catches it.
	p, _ := os.ReadFile(dir.ResumePath(ih))
	p[len(p)/2] ^= 1
	os.WriteFile(dir.ResumePath(ih), p, 0o600)
	_, err = dir.Load(ih)
	fmt.Println("damaged record rejected:", errors.Is(err, resume.ErrCorrupt))
	list, _ := dir.List()
	fmt.Println("torrents:", len(list), filepath.Base(dir.ResumePath(list[0])) == ih.String()+".resume")
	// Output:
	// verified pieces: 1010
	// damaged record rejected: true
	// torrents: 1 true
}
