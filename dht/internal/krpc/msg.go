package krpc

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/bt-go/bt/internal/compact"
)

// Message types (the "y" key).
const (
	Query    = 'q'
	Response = 'r'
	Error    = 'e'
)

// Query methods.
const (
	MethodPing         = "ping"
	MethodFindNode     = "find_node"
	MethodGetPeers     = "get_peers"
	MethodAnnouncePeer = "announce_peer"
)

// Error codes (BEP 5).
const (
	ErrGeneric  = 201
	ErrServer   = 202
	ErrProtocol = 203
	ErrMethod   = 204
)

// Want flags (BEP 32).
const (
	WantN4 = 1 << iota
	WantN6
)

// Msg is a decoded KRPC message. Slices never alias the parsed datagram.
type Msg struct {
	T  []byte // transaction id, at most MaxTIDLen bytes
	Y  byte   // Query, Response or Error
	Q  string // method of a query
	A  Args   // arguments of a query
	R  Return // values of a response
	E  ErrorValue
	IP netip.AddrPort // BEP 42 "ip": the address the sender saw us at
	RO bool           // BEP 43 read-only flag on a query
}

// Args are the arguments of a query. Fields not used by a method are zero.
type Args struct {
	ID          [IDLen]byte
	Target      [IDLen]byte // find_node
	InfoHash    [IDLen]byte // get_peers, announce_peer
	HasTarget   bool
	HasInfoHash bool
	Port        int // announce_peer, 0..65535
	ImpliedPort bool
	Token       []byte // announce_peer, at most MaxTokenLen bytes
	Want        int    // WantN4 | WantN6
}

// Return are the values of a response.
type Return struct {
	ID     [IDLen]byte
	Nodes  []NodeInfo       // IPv4 nodes
	Nodes6 []NodeInfo       // IPv6 nodes
	Token  []byte           // get_peers, at most MaxTokenLen bytes
	Values []netip.AddrPort // get_peers peers
}

// ErrorValue is the "e" list of an error message.
type ErrorValue struct {
	Code int
	Msg  string
}

// Parse decodes one KRPC message, which must be the whole of b. It checks the
// shape of every field it uses: lengths of ids, tokens, transaction ids,
// compact strings, and the presence of what the message type requires.
// Unknown keys are skipped.
func Parse(b []byte) (*Msg, error) {
	m := new(Msg)
	var hasT, hasA, hasR, hasE, hasQ bool
	end, err := readDict(b, 0, func(key []byte, i int) (int, error) {
		switch string(key) {
		case "t":
			s, next, err := readString(b, i)
			if err != nil {
				return 0, err
			}
			if len(s) > MaxTIDLen {
				return 0, syntaxErr(i, "transaction id of %d bytes", len(s))
			}
			m.T, hasT = bytes.Clone(s), true
			return next, nil
		case "y":
			s, next, err := readString(b, i)
			if err != nil {
				return 0, err
			}
			if len(s) != 1 {
				return 0, syntaxErr(i, "bad message type")
			}
			m.Y = s[0]
			return next, nil
		case "q":
			s, next, err := readString(b, i)
			if err != nil {
				return 0, err
			}
			if len(s) > maxMethodLen {
				return 0, syntaxErr(i, "method name of %d bytes", len(s))
			}
			m.Q, hasQ = string(s), true
			return next, nil
		case "a":
			hasA = true
			return parseArgs(b, i, &m.A)
		case "r":
			hasR = true
			return parseReturn(b, i, &m.R)
		case "e":
			hasE = true
			return parseError(b, i, &m.E)
		case "ip":
			s, next, err := readString(b, i)
			if err != nil {
				return 0, err
			}
			m.IP, _ = compact.Parse(s) // a malformed ip is ignored
			return next, nil
		case "ro":
			if i < len(b) && b[i] == 'i' {
				v, next, err := readInt(b, i)
				m.RO = v == 1
				return next, err
			}
		}
		return skipValue(b, i, 1)
	})
	if err != nil {
		return nil, err
	}
	if end != len(b) {
		return nil, syntaxErr(end, "trailing bytes after message")
	}
	if !hasT {
		return nil, syntaxErr(0, "no transaction id")
	}
	switch m.Y {
	case Query:
		if !hasQ || !hasA {
			return nil, syntaxErr(0, "query without method or arguments")
		}
	case Response:
		if !hasR {
			return nil, syntaxErr(0, "response without values")
		}
	case Error:
		if !hasE {
			return nil, syntaxErr(0, "error without error list")
		}
	default:
		return nil, syntaxErr(0, "unknown message type %q", m.Y)
	}
	return m, nil
}

func readID(b []byte, i int, dst *[IDLen]byte) (int, error) {
	s, next, err := readString(b, i)
	if err != nil {
		return 0, err
	}
	if len(s) != IDLen {
		return 0, syntaxErr(i, "id of %d bytes", len(s))
	}
	copy(dst[:], s)
	return next, nil
}

func readToken(b []byte, i int, dst *[]byte) (int, error) {
	s, next, err := readString(b, i)
	if err != nil {
		return 0, err
	}
	if len(s) > MaxTokenLen {
		return 0, syntaxErr(i, "token of %d bytes", len(s))
	}
	*dst = bytes.Clone(s)
	return next, nil
}

func parseArgs(b []byte, i int, a *Args) (int, error) {
	hasID := false
	end, err := readDict(b, i, func(key []byte, i int) (int, error) {
		switch string(key) {
		case "id":
			hasID = true
			return readID(b, i, &a.ID)
		case "target":
			a.HasTarget = true
			return readID(b, i, &a.Target)
		case "info_hash":
			a.HasInfoHash = true
			return readID(b, i, &a.InfoHash)
		case "port":
			v, next, err := readInt(b, i)
			if err != nil {
				return 0, err
			}
			if v < 0 || v > 65535 {
				return 0, syntaxErr(i, "port %d out of range", v)
			}
			a.Port = int(v)
			return next, nil
		case "implied_port":
			v, next, err := readInt(b, i)
			a.ImpliedPort = v != 0
			return next, err
		case "token":
			return readToken(b, i, &a.Token)
		case "want":
			if i < len(b) && b[i] == 'l' {
				return readList(b, i, func(i int) (int, error) {
					if i < len(b) && b[i] >= '0' && b[i] <= '9' {
						s, next, err := readString(b, i)
						switch string(s) {
						case "n4":
							a.Want |= WantN4
						case "n6":
							a.Want |= WantN6
						}
						return next, err
					}
					return skipValue(b, i, 3)
				})
			}
		}
		return skipValue(b, i, 2)
	})
	if err == nil && !hasID {
		err = syntaxErr(i, "arguments without id")
	}
	return end, err
}

func parseReturn(b []byte, i int, r *Return) (int, error) {
	hasID := false
	end, err := readDict(b, i, func(key []byte, i int) (int, error) {
		switch string(key) {
		case "id":
			hasID = true
			return readID(b, i, &r.ID)
		case "nodes", "nodes6":
			s, next, err := readString(b, i)
			if err != nil {
				return 0, err
			}
			size, dst := NodeLen4, &r.Nodes
			if len(key) == 6 {
				size, dst = NodeLen6, &r.Nodes6
			}
			nodes, ok := ParseNodes(s, size)
			if !ok {
				return 0, syntaxErr(i, "%s string of %d bytes", key, len(s))
			}
			*dst = nodes
			return next, nil
		case "token":
			return readToken(b, i, &r.Token)
		case "values":
			return readList(b, i, func(i int) (int, error) {
				s, next, err := readString(b, i)
				if err != nil {
					return 0, err
				}
				p, ok := compact.Parse(s)
				if !ok {
					return 0, syntaxErr(i, "peer value of %d bytes", len(s))
				}
				r.Values = append(r.Values, p)
				return next, nil
			})
		}
		return skipValue(b, i, 2)
	})
	if err == nil && !hasID {
		err = syntaxErr(i, "response without id")
	}
	return end, err
}

func parseError(b []byte, i int, e *ErrorValue) (int, error) {
	n := 0
	return readList(b, i, func(i int) (int, error) {
		n++
		switch {
		case n == 1 && i < len(b) && b[i] == 'i':
			v, next, err := readInt(b, i)
			e.Code = int(v)
			return next, err
		case n == 2 && i < len(b) && b[i] >= '0' && b[i] <= '9':
			s, next, err := readString(b, i)
			if len(s) > 256 {
				s = s[:256]
			}
			e.Msg = string(s)
			return next, err
		}
		return skipValue(b, i, 2)
	})
}

// AppendQuery appends a query message. Args fields are written only where the
// method uses them.
func AppendQuery(dst []byte, tid []byte, method string, a *Args, readOnly bool) []byte {
	dst = append(dst, "d1:ad2:id20:"...)
	dst = append(dst, a.ID[:]...)
	if method == MethodAnnouncePeer && a.ImpliedPort {
		dst = append(dst, "12:implied_porti1e"...)
	}
	if method == MethodGetPeers || method == MethodAnnouncePeer {
		dst = append(dst, "9:info_hash20:"...)
		dst = append(dst, a.InfoHash[:]...)
	}
	if method == MethodAnnouncePeer {
		dst = append(dst, "4:port"...)
		dst = appendInt(dst, int64(a.Port))
	}
	if method == MethodFindNode {
		dst = append(dst, "6:target20:"...)
		dst = append(dst, a.Target[:]...)
	}
	if method == MethodAnnouncePeer {
		dst = append(dst, "5:token"...)
		dst = appendBytes(dst, a.Token)
	}
	if (method == MethodFindNode || method == MethodGetPeers) && a.Want != 0 {
		dst = append(dst, "4:wantl"...)
		if a.Want&WantN4 != 0 {
			dst = append(dst, "2:n4"...)
		}
		if a.Want&WantN6 != 0 {
			dst = append(dst, "2:n6"...)
		}
		dst = append(dst, 'e')
	}
	dst = append(dst, "e1:q"...)
	dst = appendStr(dst, method)
	if readOnly {
		dst = append(dst, "2:roi1e"...)
	}
	dst = append(dst, "1:t"...)
	dst = appendBytes(dst, tid)
	return append(dst, "1:y1:qe"...)
}

// AppendResponse appends a response message; ip, if valid, is the BEP 42
// address we saw the querier at.
func AppendResponse(dst []byte, tid []byte, r *Return, ip netip.AddrPort) []byte {
	dst = append(dst, 'd')
	dst = appendIP(dst, ip)
	dst = append(dst, "1:rd2:id20:"...)
	dst = append(dst, r.ID[:]...)
	if len(r.Nodes) > 0 {
		dst = append(dst, "5:nodes"...)
		dst = appendNodeString(dst, r.Nodes, NodeLen4)
	}
	if len(r.Nodes6) > 0 {
		dst = append(dst, "6:nodes6"...)
		dst = appendNodeString(dst, r.Nodes6, NodeLen6)
	}
	if r.Token != nil {
		dst = append(dst, "5:token"...)
		dst = appendBytes(dst, r.Token)
	}
	if len(r.Values) > 0 {
		dst = append(dst, "6:valuesl"...)
		for _, v := range r.Values {
			if v.Addr().Unmap().Is4() {
				dst = append(dst, "6:"...)
			} else {
				dst = append(dst, "18:"...)
			}
			dst = compact.Append(dst, v)
		}
		dst = append(dst, 'e')
	}
	dst = append(dst, "e1:t"...)
	dst = appendBytes(dst, tid)
	return append(dst, "1:y1:re"...)
}

func appendNodeString(dst []byte, nodes []NodeInfo, size int) []byte {
	dst = strconv.AppendInt(dst, int64(len(nodes)*size), 10)
	dst = append(dst, ':')
	return AppendNodes(dst, nodes)
}

// AppendError appends an error message.
func AppendError(dst []byte, tid []byte, code int, msg string, ip netip.AddrPort) []byte {
	dst = append(dst, "d1:el"...)
	dst = appendInt(dst, int64(code))
	dst = appendStr(dst, msg)
	dst = append(dst, 'e')
	dst = appendIP(dst, ip)
	dst = append(dst, "1:t"...)
	dst = appendBytes(dst, tid)
	return append(dst, "1:y1:ee"...)
}

func appendIP(dst []byte, ip netip.AddrPort) []byte {
	if !ip.IsValid() {
		return dst
	}
	if ip.Addr().Unmap().Is4() {
		dst = append(dst, "2:ip6:"...)
	} else {
		dst = append(dst, "2:ip18:"...)
	}
	return compact.Append(dst, ip)
}
