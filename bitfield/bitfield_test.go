package bitfield

import (
	"errors"
	"testing"
)

func TestSetHasCount(t *testing.T) {
	f := New(13)
	for _, i := range []int{0, 7, 8, 12} {
		f.Set(i)
	}
	if got := f.String(); got != "1000000110001" {
		t.Fatalf("String = %s", got)
	}
	if f.Count() != 4 || f.All() || f.None() {
		t.Fatalf("Count=%d All=%v None=%v", f.Count(), f.All(), f.None())
	}
	if f.Has(13) || f.Has(-1) {
		t.Fatal("out-of-range index reported set")
	}
	f.Clear(7)
	if f.Has(7) || f.Count() != 3 {
		t.Fatal("Clear did not clear")
	}
	var got []int
	for i := f.Next(0); i >= 0; i = f.Next(i + 1) {
		got = append(got, i)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 8 || got[2] != 12 {
		t.Fatalf("Next walk = %v", got)
	}
}

func TestFullAndSpareBits(t *testing.T) {
	f := Full(10)
	if !f.All() || f.Count() != 10 {
		t.Fatalf("Full(10): count %d", f.Count())
	}
	b := f.Bytes()
	if b[0] != 0xff || b[1] != 0xc0 {
		t.Fatalf("packed = %x", b)
	}
	if _, err := FromBytes([]byte{0xff, 0xc1}, 10); !errors.Is(err, ErrSpareBits) {
		t.Fatalf("spare bit: err = %v", err)
	}
	if _, err := FromBytes([]byte{0xff}, 10); err == nil {
		t.Fatal("short bitfield accepted")
	}
	g, err := FromBytes([]byte{0xff, 0xc0}, 10)
	if err != nil || !g.All() {
		t.Fatalf("FromBytes: %v", err)
	}
	if !New(0).All() || !New(0).None() {
		t.Fatal("empty bitfield should be both full and empty")
	}
}
