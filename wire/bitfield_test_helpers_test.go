package wire_test

import "github.com/bt-go/bt/bitfield"

func fullBitfield(n int) bitfield.Bitfield { return bitfield.Full(n) }
