//go:build race

package bt

// raceEnabled: the race detector slows everything ten-fold; scale tests
// run smaller.
const raceEnabled = true
