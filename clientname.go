package bt

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/bt-go/bt/internal/termtext"
)

// Version is bt's version, as its peer id ("-BT0010-") and its extension
// handshake ("bt/0.0.1") advertise it.
const Version = "0.0.1"

// peerIDPrefix is our Azureus-style client id: bt 0.0.1.0.
const peerIDPrefix = "-BT0010-"

// PeerIDPrefix is the start of every peer id bt sends.
const PeerIDPrefix = peerIDPrefix

// newPeerID returns "-BT0010-" followed by 12 random bytes.
func newPeerID() [20]byte {
	var id [20]byte
	copy(id[:], peerIDPrefix)
	rand.Read(id[len(peerIDPrefix):])
	return id
}

// azureusClients maps the two-letter codes of Azureus-style peer ids to
// client names.
var azureusClients = map[string]string{
	"AG": "Ares", "AZ": "Vuze", "BC": "BitComet", "BI": "BiglyBT", "BT": "bt", "DE": "Deluge",
	"FD": "Free Download Manager", "KT": "KTorrent", "LT": "libtorrent", "lt": "rTorrent",
	"PI": "PicoTorrent", "qB": "qBittorrent", "TR": "Transmission", "UT": "µTorrent",
	"UM": "µTorrent Mac", "UW": "µTorrent Web", "WW": "WebTorrent", "XL": "Xunlei",
	"BW": "BitWombat", "TX": "Tixati", "FW": "FrostWire", "RT": "Retriever", "SD": "Thunder",
}

// ClientName guesses the client software from a peer id: Azureus style
// ("-LT2080-…" → "libtorrent 2.0.8.0"), aria2 ("A2-1-36-0-…"), Mainline
// ("M7-4-2--…"), or "" when unknown. The peer chose those bytes: the name
// has its control characters escaped, safe to print.
func ClientName(id [20]byte) string {
	return termtext.Safe(clientName(id))
}

func clientName(id [20]byte) string {
	s := string(id[:])
	if s[0] == '-' && s[7] == '-' {
		name, ok := azureusClients[s[1:3]]
		if !ok {
			name = strings.Map(printable, s[1:3])
		}
		var v []string
		for _, c := range s[3:7] {
			switch {
			case c >= '0' && c <= '9':
				v = append(v, string(c))
			case c >= 'A' && c <= 'Z':
				v = append(v, fmt.Sprint(c-'A'+10))
			case c >= 'a' && c <= 'z':
				v = append(v, fmt.Sprint(c-'a'+36))
			}
		}
		return name + " " + strings.Join(v, ".")
	}
	if strings.HasPrefix(s, "A2-") {
		parts := strings.SplitN(s[3:], "-", 4)
		if len(parts) >= 3 {
			return "aria2 " + strings.Join(parts[:3], ".")
		}
		return "aria2"
	}
	if s[0] == 'M' && s[1] >= '0' && s[1] <= '9' {
		v := strings.Trim(strings.SplitN(s[1:], "--", 2)[0], "-")
		return "Mainline " + strings.ReplaceAll(v, "-", ".")
	}
	return ""
}

func printable(r rune) rune {
	if r < 0x20 || r > 0x7e {
		return '?'
	}
	return r
}
