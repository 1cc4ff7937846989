package wire

import "sync"

// Blocks of BlockSize bytes are pooled: a received block is read into one,
// handed to the completion and the Handler, and reused after they return.
var blockPool = sync.Pool{New: func() any { return new([BlockSize]byte) }}

// getBlock returns a buffer of at least n bytes.
func getBlock(n int) []byte {
	if n > BlockSize {
		return make([]byte, n)
	}
	return blockPool.Get().(*[BlockSize]byte)[:]
}

// putBlock returns a buffer from getBlock to the pool.
func putBlock(b []byte) {
	if cap(b) == BlockSize {
		blockPool.Put((*[BlockSize]byte)(b[:BlockSize]))
	}
}
