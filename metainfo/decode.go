package metainfo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bt-go/bt/bencode"
)

// rawInfo is the info dictionary as decoded, before validation. Pointers
// tell a missing key from a zero value.
type rawInfo struct {
	Name        *string            `bencode:"name"`
	NameUTF8    bencode.RawMessage `bencode:"name.utf-8"`
	PieceLength *int64             `bencode:"piece length"`
	Pieces      *[]byte            `bencode:"pieces"`
	Length      *int64             `bencode:"length"`
	Files       *[]rawFile         `bencode:"files"`
	Private     bencode.RawMessage `bencode:"private"`
	Source      bencode.RawMessage `bencode:"source"`
	MetaVersion *int64             `bencode:"meta version"`
	FileTree    bencode.RawMessage `bencode:"file tree"`
}

type rawFile struct {
	Length      *int64             `bencode:"length"`
	Path        []string           `bencode:"path"`
	PathUTF8    bencode.RawMessage `bencode:"path.utf-8"`
	Attr        string             `bencode:"attr"`
	SymlinkPath []string           `bencode:"symlink path"`
}

// decodeInfo decodes the info dictionary's fields into an Info, checking
// their presence and types; validate checks their values.
func decodeInfo(data []byte) (*Info, error) {
	if len(data) == 0 || data[0] != 'd' {
		return nil, ErrNoInfo
	}
	var r rawInfo
	if err := bencode.Unmarshal(data, &r); err != nil {
		if te := (*bencode.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrNoInfo, err)
	}
	info := &Info{}
	if r.MetaVersion != nil {
		switch v := *r.MetaVersion; {
		case v == 2 && r.Pieces == nil:
			return nil, fmt.Errorf("%w (it has no v1 pieces)", ErrV2Only)
		case v == 2:
			info.Hybrid = true
		case v != 1:
			return nil, fmt.Errorf("%w: %d", ErrVersion, v)
		}
	}
	if r.Name == nil {
		return nil, fmt.Errorf("%w: the name is missing", ErrName)
	}
	info.Name = *r.Name
	if s := lenientString(r.NameUTF8); s != "" {
		info.Name = s
	}
	if r.PieceLength == nil {
		return nil, fmt.Errorf("%w: it is missing", ErrPieceLength)
	}
	info.PieceLength = *r.PieceLength
	if r.Pieces == nil {
		return nil, fmt.Errorf("%w: the pieces key is missing", ErrPieces)
	}
	info.Pieces = *r.Pieces
	var private int64
	_ = bencode.Unmarshal(r.Private, &private)
	info.Private = private == 1
	info.Source = lenientString(r.Source)
	switch {
	case r.Files != nil && r.Length != nil:
		return nil, fmt.Errorf("%w: both length and files are present", ErrLength)
	case r.Length != nil:
		info.Length = *r.Length
	case r.Files != nil:
		if len(*r.Files) > MaxFiles {
			return nil, fmt.Errorf("%w: %d files, more than %d", ErrTooManyFiles, len(*r.Files), MaxFiles)
		}
		info.Files = make([]File, len(*r.Files))
		for i, rf := range *r.Files {
			var length int64
			switch {
			case rf.Length != nil:
				length = *rf.Length
			case !strings.ContainsRune(rf.Attr, 'l'): // a symlink needs none
				return nil, fmt.Errorf("%w: file %d has no length", ErrLength, i)
			}
			f := File{Length: length, Path: rf.Path, Attr: rf.Attr, SymlinkPath: rf.SymlinkPath}
			if len(rf.PathUTF8) > 0 {
				var p []string
				if bencode.Unmarshal(rf.PathUTF8, &p) == nil && len(p) > 0 {
					f.Path = p
				}
			}
			info.Files[i] = f
		}
	default:
		return nil, fmt.Errorf("%w: neither length nor files is present", ErrLength)
	}
	if info.Hybrid {
		if err := checkFileTree(info, r.FileTree); err != nil {
			return nil, err
		}
	}
	return info, nil
}
