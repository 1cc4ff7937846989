package wire

import (
	"errors"
	"fmt"
)

// MessageType identifies a message of the peer wire protocol. The values of
// real messages are their ids on the wire; KeepAlive, which has no id, is
// given a value outside the byte range.
type MessageType int

// The messages of BEP 3, BEP 5 (port), BEP 6 (fast) and BEP 10 (extended).
const (
	MsgChoke         MessageType = 0
	MsgUnchoke       MessageType = 1
	MsgInterested    MessageType = 2
	MsgNotInterested MessageType = 3
	MsgHave          MessageType = 4
	MsgBitfield      MessageType = 5
	MsgRequest       MessageType = 6
	MsgPiece         MessageType = 7
	MsgCancel        MessageType = 8
	MsgPort          MessageType = 9
	MsgSuggest       MessageType = 0x0D
	MsgHaveAll       MessageType = 0x0E
	MsgHaveNone      MessageType = 0x0F
	MsgReject        MessageType = 0x10
	MsgAllowedFast   MessageType = 0x11
	MsgExtended      MessageType = 20
	MsgKeepAlive     MessageType = 0x100
)

var typeNames = map[MessageType]string{
	MsgChoke: "choke", MsgUnchoke: "unchoke", MsgInterested: "interested", MsgNotInterested: "not interested",
	MsgHave: "have", MsgBitfield: "bitfield", MsgRequest: "request", MsgPiece: "piece", MsgCancel: "cancel",
	MsgPort: "port", MsgSuggest: "suggest", MsgHaveAll: "have all", MsgHaveNone: "have none", MsgReject: "reject",
	MsgAllowedFast: "allowed fast", MsgExtended: "extended", MsgKeepAlive: "keep-alive",
}

// String returns the spec's name of the message, e.g. "not interested".
func (t MessageType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("unknown(%d)", int(t))
}

// fast reports whether t belongs to the Fast extension.
func (t MessageType) fast() bool { return t >= MsgSuggest && t <= MsgAllowedFast }

// Message is one message received from the peer, with its fields named as
// BEP 3, 5, 6 and 10 name them. Only the fields of its Type are set. A
// *Message and the slices it holds are valid only during the handler call
// that receives it: copy what must outlive the call.
type Message struct {
	Type MessageType

	// Index is the piece index of have, request, piece, cancel, suggest,
	// reject and allowed fast.
	Index int
	// Begin is the byte offset within the piece of request, piece, cancel
	// and reject.
	Begin int
	// Length is the block length of request, cancel and reject, and
	// len(Block) for piece.
	Length int
	// Block is the data of a piece message ("block" in BEP 3; the seeds
	// call it piece).
	Block []byte
	// Bitfield is the packed payload of a bitfield message.
	Bitfield []byte
	// Port is the DHT port of a port message (BEP 5).
	Port uint16
	// ExtendedID and Payload are the extended message id and payload of an
	// extended message (BEP 10). Messages for extensions registered with
	// Conn.Use go to the extension, not to the handler.
	ExtendedID byte
	Payload    []byte
}

// Request identifies a block: the piece Index, the byte offset Begin within
// the piece and the Length (the seeds' {piece, offset, length}).
type Request struct {
	Index, Begin, Length int
}

// String formats r as "index:begin+length".
func (r Request) String() string { return fmt.Sprintf("%d:%d+%d", r.Index, r.Begin, r.Length) }

// Errors a request's completion reports.
var (
	// ErrChoked: the peer choked us without the Fast extension, which
	// discards every pending request; or we requested while choked.
	ErrChoked = errors.New("wire: choked by peer")
	// ErrRejected: the peer rejected the request (BEP 6).
	ErrRejected = errors.New("wire: request rejected by peer")
	// ErrTimeout: the head request took longer than the time-out set with
	// SetTimeout.
	ErrTimeout = errors.New("wire: request timed out")
	// ErrCanceled: we canceled the request.
	ErrCanceled = errors.New("wire: request canceled")
	// ErrClosed: the connection is closed.
	ErrClosed = errors.New("wire: connection closed")
)

// Errors of the protocol: the peer broke a rule. Each ends the connection
// with a *ProtocolError that wraps one of them.
var (
	ErrFrameTooLarge        = errors.New("frame too large")
	ErrMessageLength        = errors.New("wrong message length")
	ErrUnknownMessage       = errors.New("unknown message id")
	ErrFastNotNegotiated    = errors.New("fast extension message without fast extension")
	ErrExtendedNotSupported = errors.New("extended message without extension protocol")
	ErrBadBitfield          = errors.New("bad bitfield")
	ErrIndexOutOfRange      = errors.New("piece index out of range")
	ErrBadRequest           = errors.New("bad request")
	ErrBadExtendedHandshake = errors.New("bad extended handshake")
	ErrIdle                 = errors.New("peer idle")
	ErrDuplicateRequests    = errors.New("too many duplicate requests")
)

// ProtocolError reports a peer that broke the protocol. The connection is
// closed with it. Err is one of the Err* protocol sentinels above.
type ProtocolError struct {
	Type   MessageType // the message at fault (MsgKeepAlive when none)
	Err    error
	Detail string
}

func (e *ProtocolError) Error() string {
	s := "wire: " + e.Type.String() + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel.
func (e *ProtocolError) Unwrap() error { return e.Err }

func protoErr(t MessageType, err error, format string, args ...any) error {
	return &ProtocolError{Type: t, Err: err, Detail: fmt.Sprintf(format, args...)}
}
