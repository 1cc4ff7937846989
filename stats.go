package bt

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"time"
)

// Stats is a snapshot of a torrent's progress and transfer.
type Stats struct {
	State     State
	Pieces    int   // pieces verified
	NumPieces int   // pieces in the torrent (0 before metadata)
	Size      int64 // bytes in the torrent
	Left      int64 // wanted bytes still missing (-1 before metadata)
	// Wanted is the bytes of the pieces of the files chosen for download
	// (Size when every file is wanted; 0 before metadata): the whole that
	// Left counts down, for a progress display.
	Wanted     int64
	Downloaded int64 // payload bytes received
	Uploaded   int64 // payload bytes sent
	// DownloadRate and UploadRate are recent payload rates in bytes/s.
	DownloadRate, UploadRate float64
	Peers                    int // connected peers
	// DistributedCopies is how many complete copies of the torrent the
	// connected peers and we hold between us (libtorrent's
	// distributed_copies): the rarest piece's count, plus the fraction of
	// pieces held more often than that. Under 1, some piece is nowhere in
	// reach and the download cannot complete until a peer with it comes.
	// 0 before metadata.
	DistributedCopies float64
	Complete          bool
	Checking          bool
	// Checked and ToCheck are a running hash check's progress: pieces
	// hashed so far, of how many.
	Checked, ToCheck int
}

// Stats returns a snapshot of the torrent's progress.
func (t *Torrent) Stats() Stats {
	var s Stats
	t.call(func() {
		s.State = t.state
		s.Downloaded, s.Uploaded = t.downloaded.Load(), t.uploaded.Load()
		s.Peers = len(t.peers)
		for p := range t.peers {
			s.DownloadRate += p.downRate.value
			s.UploadRate += p.upRate.value
		}
		s.Complete = t.completed
		s.Checking = t.checking
		if t.checking {
			s.Checked, s.ToCheck = int(t.checkedN.Load()), int(t.checkN.Load())
		}
		s.Left, s.Wanted = t.left(), t.wanted()
		s.DistributedCopies = t.distributedCopies()
		if m := t.meta.Load(); m != nil {
			s.NumPieces = m.layout.NumPieces
			s.Size = m.layout.TotalLength
			s.Pieces = t.have.Load().Count()
		}
	})
	return s
}

// PeerFlags describe a connection, like the flags column of other clients.
type PeerFlags struct {
	Incoming       bool // the peer connected to us
	AmChoking      bool // we choke it
	AmInterested   bool // we want data from it
	PeerChoking    bool // it chokes us
	PeerInterested bool // it wants data from us
	Snubbed        bool // it has not sent us a block for a minute despite requests
	Fast           bool // both sides speak the fast extension (BEP 6)
	Extended       bool // both sides speak the extension protocol (BEP 10)
	Seed           bool // it has every piece
	Encrypted      bool // the stream is RC4-encrypted (MSE)
}

// String renders the flags compactly: "I" incoming, "d"/"D" we are
// interested and choked/unchoked, "u"/"U" it is interested and
// choked/unchoked, "S" snubbed, "F" fast, "E" extended, "s" seed, "e"
// encrypted.
func (f PeerFlags) String() string {
	s := ""
	add := func(ok bool, c string) {
		if ok {
			s += c
		}
	}
	add(f.Incoming, "I")
	add(f.AmInterested && f.PeerChoking, "d")
	add(f.AmInterested && !f.PeerChoking, "D")
	add(f.PeerInterested && f.AmChoking, "u")
	add(f.PeerInterested && !f.AmChoking, "U")
	add(f.Snubbed, "S")
	add(f.Fast, "F")
	add(f.Extended, "E")
	add(f.Seed, "s")
	add(f.Encrypted, "e")
	return s
}

// PeerInfo describes a connected peer: the seed's peers().
type PeerInfo struct {
	Addr   netip.AddrPort
	PeerID [20]byte
	Client string // from the peer id, e.g. "libtorrent 2.0.8.0"
	Flags  PeerFlags
	// Encryption is the connection's Message Stream Encryption: "rc4",
	// "plaintext" (an MSE handshake, then a plaintext stream) or "" (a
	// plaintext BitTorrent handshake).
	Encryption string
	// DownloadRate and UploadRate are payload rates from and to the peer.
	DownloadRate, UploadRate float64
	Downloaded, Uploaded     int64
	Progress                 float64 // fraction of the pieces it has
	Requests                 int     // our outstanding requests to it
	Connected                time.Time
}

// Peers lists the connected peers.
func (t *Torrent) Peers() []PeerInfo {
	var out []PeerInfo
	t.call(func() {
		for p := range t.peers {
			pi := PeerInfo{
				Addr: p.addr, PeerID: p.peerID, Client: p.client,
				Flags: PeerFlags{
					Incoming: p.incoming, AmChoking: p.amChoking, AmInterested: p.amInterested,
					PeerChoking: p.peerChoking, PeerInterested: p.peerInterested, Snubbed: p.snubbed,
					Fast: p.conn.SupportsFast(), Extended: p.conn.SupportsExtended(), Seed: p.seed,
					Encrypted: encryptionOf(p.conn) == "rc4",
				},
				Encryption:   encryptionOf(p.conn),
				DownloadRate: p.downRate.value, UploadRate: p.upRate.value,
				Downloaded: p.downloaded, Uploaded: p.uploadedA.Load(),
				Requests: len(p.reqs), Connected: p.connectedAt,
			}
			if p.seed {
				pi.Progress = 1
			} else if p.has.Len() > 0 {
				pi.Progress = float64(p.has.Count()) / float64(p.has.Len())
			}
			out = append(out, pi)
		}
	})
	return out
}

// File describes one file of a torrent: the seed's files().
type File struct {
	Index    int
	Path     string // absolute path on disk
	Length   int64
	Priority int // PrioritySkip (0): not downloaded; higher first. Default PriorityNormal.
	Pad      bool
}

// Files lists the torrent's files (nil before metadata). Pad files are
// included (marked Pad) so that indices match the torrent's file list.
func (t *Torrent) Files() []File {
	var out []File
	t.call(func() {
		m := t.meta.Load()
		if m == nil {
			return
		}
		for i, fe := range m.layout.Files {
			f := File{Index: i, Length: fe.Length, Pad: fe.Pad, Priority: PriorityNormal}
			if i < len(t.filePrio) {
				f.Priority = t.filePrio[i]
			}
			if !fe.Pad {
				f.Path = filepath.Join(append([]string{t.dir}, fe.Path...)...)
			}
			out = append(out, f)
		}
	})
	return out
}

// SetFilePriority sets the priority of file i: 0 skips it, higher values
// are downloaded first. It takes effect at once.
func (t *Torrent) SetFilePriority(i, prio int) error {
	var err error
	if e := t.call(func() {
		if t.meta.Load() == nil {
			err = fmt.Errorf("bt: no metadata yet")
			return
		}
		if i < 0 || i >= len(t.filePrio) {
			err = fmt.Errorf("bt: file index %d out of range [0,%d)", i, len(t.filePrio))
			return
		}
		t.filePrio[i] = min(max(prio, PrioritySkip), MaxPriority)
		t.applyPriorities()
		t.checkComplete()
		for p := range t.peers {
			t.fillRequests(p)
		}
	}); e != nil {
		return e
	}
	return err
}

// distributedCopies computes Stats.DistributedCopies on the loop.
func (t *Torrent) distributedCopies() float64 {
	if t.pick == nil || t.pick.NumPieces() == 0 {
		return 0
	}
	n := t.pick.NumPieces()
	count := func(i int) int {
		a := t.pick.Availability(i)
		if t.pick.Have(i) {
			a++
		}
		return a
	}
	least := count(0)
	for i := 1; i < n; i++ {
		least = min(least, count(i))
	}
	above := 0
	for i := range n {
		if count(i) > least {
			above++
		}
	}
	return float64(least) + float64(above)/float64(n)
}
