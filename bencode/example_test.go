package bencode_test

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bt-go/bt/bencode"
)

func ExampleMarshal() {
	type handshake struct {
		M    map[string]int `bencode:"m"`
		V    string         `bencode:"v,omitempty"`
		Port int            `bencode:"p,omitempty"`
	}
	b, err := bencode.Marshal(handshake{M: map[string]int{"ut_pex": 1, "ut_metadata": 2}, V: "bt 0.1", Port: 6881})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", b)
	// Output: d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e1:v6:bt 0.1e
}

func ExampleUnmarshal() {
	var t struct {
		Announce string             `bencode:"announce"`
		Info     bencode.RawMessage `bencode:"info"`
	}
	data := []byte("d8:announce18:http://tracker/ann4:infod6:lengthi5e4:name1:aee")
	if err := bencode.Unmarshal(data, &t); err != nil {
		panic(err)
	}
	fmt.Println(t.Announce)
	fmt.Printf("%s\n", t.Info)
	fmt.Printf("%x\n", sha1.Sum(t.Info))
	// Output:
	// http://tracker/ann
	// d6:lengthi5e4:name1:ae
	// 525ba536945d8397fa2c220c63629c0325ffde36
}

func ExampleUnmarshal_any() {
	var v any
	if err := bencode.Unmarshal([]byte("d3:cow3:moo4:spaml1:ai7eee"), &v); err != nil {
		panic(err)
	}
	fmt.Printf("%#v\n", v)
	// Output: map[string]interface {}{"cow":"moo", "spam":[]interface {}{"a", 7}}
}

func ExampleUnmarshalStrict() {
	var v map[string]int
	err := bencode.UnmarshalStrict([]byte("d1:bi1e1:ai2ee"), &v)
	fmt.Println(err)
	// Output: bencode: dict key "a" out of order at offset 7
}

func ExampleUnmarshalPrefix() {
	msg := []byte("d8:msg_typei1e5:piecei0e10:total_sizei8ee" + "PIECEDAT")
	var header struct {
		Type      int `bencode:"msg_type"`
		Piece     int `bencode:"piece"`
		TotalSize int `bencode:"total_size"`
	}
	n, err := bencode.UnmarshalPrefix(msg, &header)
	if err != nil {
		panic(err)
	}
	fmt.Println(header.Type, header.Piece, string(msg[n:]))
	// Output: 1 0 PIECEDAT
}

func ExampleEncoder() {
	enc := bencode.NewEncoder(os.Stdout)
	if err := enc.Encode([]any{"spam", 42}); err != nil {
		panic(err)
	}
	// Output: l4:spami42ee
}

func ExampleDecoder() {
	// Two values back to back, as on a stream.
	dec := bencode.NewDecoder(strings.NewReader("d1:ai1ee" + "l3:one3:twoe"))
	var m map[string]int
	var l []string
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	if err := dec.Decode(&l); err != nil {
		panic(err)
	}
	fmt.Println(m, l)
	var extra any
	fmt.Println(dec.Decode(&extra) == io.EOF)
	// Output:
	// map[a:1] [one two]
	// true
}

func ExampleSyntaxError() {
	var n int
	err := bencode.Unmarshal([]byte("i03e"), &n)
	var se *bencode.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Offset, se.Msg)
	}
	err = bencode.Unmarshal([]byte("l4:spa"), new(any))
	fmt.Println(errors.Is(err, io.ErrUnexpectedEOF), err)
	// Output:
	// 1 integer has a leading zero
	// true bencode: unexpected end of input at offset 6
}

func ExampleRawMessage() {
	// The info dict keeps its bytes as they were, even out of order, so
	// that its hash matches the one the swarm uses.
	var t struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal([]byte("d4:infod4:name1:x6:lengthi1eee"), &t); err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", t.Info)
	// Output: d4:name1:x6:lengthi1ee
}

func ExampleValid() {
	fmt.Println(bencode.Valid([]byte("d3:key5:valuee")))
	fmt.Println(bencode.Valid([]byte("d3:key5:value")))
	// Output:
	// <nil>
	// bencode: unexpected end of input at offset 13
}
