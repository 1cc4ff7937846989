package wire

import (
	"bufio"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU seconds per GB moved.
func reportCPU(b *testing.B, start time.Duration, bytes int64) {
	cpu := cpuTime() - start
	if bytes > 0 {
		b.ReportMetric(cpu.Seconds()/(float64(bytes)/1e9), "cpu-s/GB")
	}
}

// BenchmarkRequestPiece pushes request/piece traffic between two Conns over
// loopback TCP: one requests 16 KiB blocks with a pipeline of 256, the other
// answers each from memory. Compare with BenchmarkRawTCP.
func BenchmarkRequestPiece(b *testing.B) {
	const depth = 256
	ca, cb := testConfig('a'), testConfig('b')
	for _, c := range []*Config{ca, cb} {
		c.PieceLength, c.TotalLength = 4<<20, 1<<40
		c.MaxPeerRequests = 2 * depth
	}
	down, up := tcpPair(b, ca, cb)
	data := make([]byte, BlockSize)
	up.Start(Funcs{Message: func(c *Conn, m *Message) {
		switch m.Type {
		case MsgInterested:
			c.Unchoke()
		case MsgRequest:
			if err := c.Piece(m.Index, m.Begin, data[:m.Length]); err != nil {
				b.Error(err)
			}
		}
	}})
	n := b.N
	sent, got := 0, 0
	finished := make(chan struct{})
	const perPiece = (4 << 20) / BlockSize
	request := func(c *Conn) {
		k := sent
		sent++
		if err := c.Request((k/perPiece)%(1<<18), (k%perPiece)*BlockSize, BlockSize, nil); err != nil {
			b.Error(err)
		}
	}
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	var cpu0 time.Duration
	down.Start(Funcs{Message: func(c *Conn, m *Message) {
		switch m.Type {
		case MsgUnchoke:
			b.ResetTimer()
			cpu0 = cpuTime()
			for sent < n && sent < depth {
				request(c)
			}
		case MsgPiece:
			got++
			if got == n {
				close(finished)
			} else if sent < n {
				request(c)
			}
		}
	}})
	down.Interested()
	<-finished
	b.StopTimer()
	reportCPU(b, cpu0, int64(n)*BlockSize)
}

// BenchmarkRawTCP is the baseline: 16 KiB blocks with a 13-byte header
// written one per call to loopback TCP and read through a bufio.Reader of
// the size a Conn uses, into a 16 KiB block.
func BenchmarkRawTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	n := b.N
	go func() {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer nc.Close()
		msg := make([]byte, 13+BlockSize)
		for range n {
			if _, err := nc.Write(msg); err != nil {
				return
			}
		}
	}()
	nc, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, DefaultReadBufferSize)
	var hdr [13]byte
	block := make([]byte, BlockSize)
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range n {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(br, block); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0, int64(n)*BlockSize)
}
