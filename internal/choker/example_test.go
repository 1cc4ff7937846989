package choker_test

import (
	"fmt"
	"time"

	"github.com/bt-go/bt/internal/choker"
)

// Example runs one round while downloading: the two peers that upload to
// us fastest get the regular slots.
func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &choker.Choker{Slots: 2}
	peers := []choker.Peer{
		{ID: 1, Interested: true, DownloadRate: 10},
		{ID: 2, Interested: true, DownloadRate: 300},
		{ID: 3, Interested: true, DownloadRate: 200},
		{ID: 4, Interested: false, DownloadRate: 900},
	}
	r := c.Round(now, peers, false)
	fmt.Println(r.Unchoke[:2], "optimistic:", r.Optimistic)
	// Output: [2 3] optimistic: 1
}
