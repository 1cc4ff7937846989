package main

import (
	"slices"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

func TestSelectFiles(t *testing.T) {
	l := &metainfo.Layout{PieceLength: 16, Files: []metainfo.FileEntry{
		{Path: []string{"t", "a.mkv"}, Length: 10},
		{Path: []string{"t", "sub", "b.srt"}, Length: 10},
		{Path: []string{"t", ".pad", "5"}, Length: 6, Pad: true},
		{Path: []string{"t", "c.nfo"}, Length: 10},
	}}
	for _, tc := range []struct {
		only, skip []string
		want       []int
		err        bool
	}{
		{nil, nil, []int{4, 4, 4, 4}, false},
		{[]string{"*.mkv"}, nil, []int{4, 0, 0, 0}, false},
		{[]string{"sub/*"}, nil, []int{0, 4, 0, 0}, false},
		{[]string{"0-1"}, []string{"b.srt"}, []int{4, 0, 0, 0}, false},
		{nil, []string{"3", "t/a.mkv"}, []int{0, 4, 4, 0}, false},
		{[]string{"*.iso"}, nil, nil, true},
		{[]string{"9"}, nil, nil, true},
		{[]string{"[x"}, nil, nil, true},
	} {
		got, err := selectFiles(l, true, tc.only, tc.skip)
		if (err != nil) != tc.err || !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("only %q skip %q: %v %v, want %v", tc.only, tc.skip, got, err, tc.want)
		}
	}
}

// TestSelectFilesExample: --only/--skip patterns become file priorities:
// indices as `bt info` shows them, ranges, or globs on the paths.
func TestSelectFilesExample(t *testing.T) {
	layout := &metainfo.Layout{PieceLength: 1 << 18, Files: []metainfo.FileEntry{
		{Index: 0, Path: []string{"show", "e01.mkv"}, Length: 1 << 20},
		{Index: 1, Path: []string{"show", "e01.srt"}, Length: 1 << 10},
		{Index: 2, Path: []string{"show", "e02.mkv"}, Length: 1 << 20},
		{Index: 3, Path: []string{"show", "sample", "s.mkv"}, Length: 1 << 10},
	}}
	prios, err := selectFiles(layout, true, []string{"*.mkv", "1"}, []string{"sample/*"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prios, []int{4, 4, 4, 0}) {
		t.Errorf("priorities %v, want [4 4 4 0]", prios)
	}
}
