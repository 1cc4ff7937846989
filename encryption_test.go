package bt

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire/pex"
)

// TestEncryptionPolicies dials a bt seed from a bt client for each pair
// of policies and checks what the connection became, fallbacks included;
// the pairs with nothing in common must fail.
func TestEncryptionPolicies(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 32<<10)
	cases := []struct {
		dialer, seed Encryption
		want         string // PeerInfo.Encryption; "fail": no connection
	}{
		{EncryptionTolerated, EncryptionTolerated, ""},
		{EncryptionTolerated, EncryptionRequired, "rc4"}, // plaintext refused, MSE at once
		{EncryptionPreferred, EncryptionTolerated, "rc4"},
		{EncryptionPreferred, EncryptionDisabled, ""}, // MSE refused, plaintext at once
		{EncryptionRequired, EncryptionPreferred, "rc4"},
		{EncryptionDisabled, EncryptionPreferred, ""},
		{EncryptionRequired, EncryptionDisabled, "fail"},
		{EncryptionDisabled, EncryptionRequired, "fail"},
	}
	for _, tc := range cases {
		t.Run(tc.dialer.String()+"→"+tc.seed.String(), func(t *testing.T) {
			seed, _ := seedTorrent(t, Config{Encryption: tc.seed}, mi, dir)
			c := newTestClient(t, Config{Encryption: tc.dialer, NoTrackers: true})
			tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(t.TempDir(), "leech"), State: Stopped})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := tor.dialPeer(ctx, loopback(seed.Port()), tor.wireConfig())
			if tc.want == "fail" {
				if err == nil {
					conn.Close()
					t.Fatal("connected, want a failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := encryptionOf(conn); got != tc.want {
				t.Fatalf("encryption %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEncryptedSwarm: two bt clients that require encryption exchange a
// torrent byte-exact over RC4, and each shows the other as encrypted.
func TestEncryptedSwarm(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 700_000, 3)
	mi := makeTorrent(t, src, 32<<10)
	seed, stor := seedTorrent(t, Config{Encryption: EncryptionRequired, MaxUploadRate: 512 << 10}, mi, dir)
	c := newTestClient(t, Config{Encryption: EncryptionRequired})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	leechSees, seedSees := watchEncryption(tor), watchEncryption(stor)
	tor.AddPeers(loopback(seed.Port()))
	// While they are connected, the seed would tell others through PEX
	// that this peer prefers encryption (BEP 11 flag 0x01).
	var flags pex.Flags
	for deadline := time.Now().Add(30 * time.Second); flags == 0 && !tor.Complete() && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		stor.call(func() {
			for p := range stor.peers {
				flags = pexFlags(p)
			}
		})
	}
	t.Logf("the seed gives the leecher PEX flags %v", flags)
	if flags&pex.FlagPrefersEncryption == 0 && !tor.Complete() {
		t.Errorf("PEX flags of an RC4 peer %v, want prefers-encryption", flags)
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	if l, s := <-leechSees, <-seedSees; l != "rc4" || s != "rc4" {
		t.Errorf("leecher sees %q, seed sees %q, want rc4", l, s)
	}
}

// Bits of libtorrent's peer_info.flags.
const (
	ltHandshake          = 0x40
	ltConnecting         = 0x80
	ltRC4Encrypted       = 0x80000
	ltPlaintextEncrypted = 0x100000
)

// ltForced are libtorrent settings that refuse anything but MSE, with
// allowed_enc_level 1 (plaintext stream), 2 (RC4) or 3 (either).
func ltForced(level int) map[string]any {
	return map[string]any{"out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": level}
}

// TestLibtorrentForcedEncryption: libtorrent with encryption forced, for
// each allowed_enc_level, seeds to bt (bt dials: its plaintext attempt is
// refused and MSE follows at once) and downloads from bt (libtorrent
// dials bt's one port), byte-exact, and both sides agree on the stream.
func TestLibtorrentForcedEncryption(t *testing.T) {
	peertest.RequireLibtorrent(t)
	for _, level := range []int{1, 2, 3} {
		want := map[int]string{1: "plaintext", 2: "rc4", 3: ""}[level]
		t.Run("level"+string(rune('0'+level)), func(t *testing.T) {
			t.Run("bt downloads", func(t *testing.T) {
				dir := t.TempDir()
				src, mi, file, ih := ltTorrent(t, dir, true, 2<<20, 40_000)
				lt := peertest.StartLibtorrent(t, ltForced(level))
				lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
				c := newTestClient(t, Config{})
				tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
				if err != nil {
					t.Fatal(err)
				}
				encs := watchEncryption(tor)
				tor.AddPeers(ltAddr(t, lt))
				ltSays := ltEncryption(t, lt, ih)
				waitComplete(t, tor, 60*time.Second)
				peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
				checkEncryption(t, <-encs, ltSays, want)
			})
			t.Run("libtorrent downloads", func(t *testing.T) {
				dir := t.TempDir()
				src, mi, file, ih := ltTorrent(t, dir, true, 2<<20, 40_000)
				c := newTestClient(t, Config{})
				tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
				if err != nil {
					t.Fatal(err)
				}
				waitSeeding(t, tor, 10*time.Second)
				lt := peertest.StartLibtorrent(t, ltForced(level))
				lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
				lt.ConnectPeer(t, ih, loopback(c.Port()).String())
				encs := watchEncryption(tor)
				ltSays := ltEncryption(t, lt, ih)
				lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
				peertest.WaitSameFiles(t, src, filepath.Join(dir, "leech", "tree"), 20*time.Second)
				checkEncryption(t, <-encs, ltSays, want)
			})
		})
	}
}

// ltEncryption polls libtorrent until it has a peer for ih and returns
// what it says of that connection: "rc4", "plaintext" (an MSE handshake
// and a plaintext stream) or "none".
func ltEncryption(t *testing.T, lt *peertest.Libtorrent, ih string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range lt.Peers(t, ih) {
			if p.Flags&(ltHandshake|ltConnecting) != 0 {
				continue // not yet settled
			}
			switch {
			case p.Flags&ltRC4Encrypted != 0:
				return "rc4"
			case p.Flags&ltPlaintextEncrypted != 0:
				return "plaintext"
			}
			return "none"
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("libtorrent never had a peer")
	return ""
}

// checkEncryption compares bt's view of a connection with libtorrent's,
// and with want ("" when libtorrent may choose either stream).
func checkEncryption(t *testing.T, bt, lt, want string) {
	t.Helper()
	t.Logf("bt reports %q, libtorrent reports %q", bt, lt)
	if bt == "" || want != "" && bt != want || bt != lt {
		t.Errorf("bt reports %q, libtorrent %q, want %q", bt, lt, want)
	}
}

// TestMagnetFromForcedLibtorrent: a magnet link completes from a
// libtorrent seed that requires RC4: metadata and data over MSE.
func TestMagnetFromForcedLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, _ := ltTorrent(t, dir, true, 200_000, 60_000)
	lt := peertest.StartLibtorrent(t, ltForced(2))
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
	c := newTestClient(t, Config{Encryption: EncryptionRequired})
	mag := mi.Magnet()
	mag.Peers = []string{ltAddr(t, lt).String()}
	tor, err := c.AddMagnet(mag.String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestTransmissionEncryptionRequired: Transmission with encryption
// required (-er) seeds to bt and downloads from bt. Transmission ignores
// loopback peers it hears of, so bt dials it both times: with its default
// policy bt's plaintext attempt is refused and MSE follows at once.
func TestTransmissionEncryptionRequired(t *testing.T) {
	peertest.RequireCommand(t, "transmission-cli")
	t.Run("bt downloads", func(t *testing.T) {
		dir := t.TempDir()
		src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000, 30_000)
		mi := makeTorrent(t, src, 32<<10)
		file := writeTorrentFile(t, mi, dir)
		tr := peertest.StartTransmission(t, peertest.TransmissionOptions{TorrentFile: file, Dir: filepath.Join(dir, "seed"), Encryption: "required"})
		c := newTestClient(t, Config{})
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
		if err != nil {
			t.Fatal(err)
		}
		encs := watchEncryption(tor)
		// Transmission verifies its data before it serves: bt retries.
		tor.AddPeers(parseAddr(t, tr.Addr))
		waitComplete(t, tor, 90*time.Second)
		peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
		if e := <-encs; e != "rc4" {
			t.Errorf("encryption %q, want rc4", e)
		}
	})
	t.Run("Transmission downloads", func(t *testing.T) {
		dir := t.TempDir()
		src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000, 30_000)
		mi := makeTorrent(t, src, 32<<10)
		file := writeTorrentFile(t, mi, dir)
		c := newTestClient(t, Config{})
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, tor, 10*time.Second)
		os.MkdirAll(filepath.Join(dir, "leech"), 0o755)
		tr := peertest.StartTransmission(t, peertest.TransmissionOptions{TorrentFile: file, Dir: filepath.Join(dir, "leech"), Encryption: "required"})
		encs := watchEncryption(tor)
		tor.AddPeers(parseAddr(t, tr.Addr))
		peertest.WaitSameFiles(t, src, filepath.Join(dir, "leech", "tree"), 90*time.Second)
		if e := <-encs; e != "rc4" {
			t.Errorf("encryption %q, want rc4", e)
		}
	})
}

// watchEncryption reports the Encryption of the first peer tor connects
// to ("" if none within a minute).
func watchEncryption(tor *Torrent) <-chan string {
	out := make(chan string, 1)
	go func() {
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			if ps := tor.Peers(); len(ps) > 0 {
				out <- ps[0].Encryption
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		out <- ""
	}()
	return out
}

// TestEncryptionHint: under the tolerated policy a peer PEX flagged
// "prefers encryption" (or one that needed MSE last time) is dialled with
// MSE first, and one that took a plaintext handshake is dialled plaintext.
func TestEncryptionHint(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 50_000)
	mi := makeTorrent(t, src, 32<<10)
	seed, _ := seedTorrent(t, Config{}, mi, dir)
	c := newTestClient(t, Config{NoTrackers: true})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(t.TempDir(), "leech"), State: Stopped})
	if err != nil {
		t.Fatal(err)
	}
	addr := loopback(seed.Port())
	dial := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := tor.dialPeer(ctx, addr, tor.wireConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return encryptionOf(conn)
	}
	if e := dial(); e != "" {
		t.Fatalf("first dial: %q, want a plaintext handshake", e)
	}
	c.enc.note(addr, true) // as ut_pex's OnPeer does for flag 0x01
	if e := dial(); e != "plaintext" {
		t.Fatalf("after the hint: %q, want an MSE handshake with a plaintext stream", e)
	}
	if !c.enc.prefers(addr) {
		t.Fatal("the MSE handshake that worked was not remembered")
	}
}
