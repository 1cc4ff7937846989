package peertest

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TransmissionOptions says how to start transmission-cli.
type TransmissionOptions struct {
	TorrentFile string // the .torrent to download or seed
	Dir         string // download directory; put the data here to seed it
	Port        int    // peer port; 0 picks a free one
	// Encryption is "tolerated" (the default, -et), "preferred" (-ep) or
	// "required" (-er, and "encryption": 2 in settings.json).
	Encryption string
}

// Transmission is a transmission-cli process working on one torrent. It does
// not dial loopback peers it hears of from trackers or PEX, so tests make the
// other side dial Addr.
type Transmission struct {
	Addr string // "127.0.0.1:port", where it accepts peers
	cmd  *exec.Cmd
	log  string
}

// StartTransmission starts transmission-cli with DHT, local discovery, PEX,
// port mapping, speed limits and the blocklist off, listening on 127.0.0.1.
// If the data is already in Dir it verifies it and seeds. It is killed when
// the test ends.
func StartTransmission(t testing.TB, o TransmissionOptions) *Transmission {
	t.Helper()
	bin := RequireCommand(t, "transmission-cli")
	if o.Port == 0 {
		o.Port = FreePort(t)
	}
	encFlag, encSetting := "-et", 0
	switch o.Encryption {
	case "", "tolerated":
	case "preferred":
		encFlag, encSetting = "-ep", 1
	case "required":
		encFlag, encSetting = "-er", 2
	default:
		t.Fatalf("peertest: transmission encryption %q", o.Encryption)
	}
	cfg := t.TempDir()
	settings := map[string]any{
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
		"port-forwarding-enabled": false, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
		"ratio-limit-enabled": false, "idle-seeding-limit-enabled": false, "peer-port": o.Port,
		"encryption": encSetting, "message-level": 2,
	}
	js, _ := json.Marshal(settings)
	if err := os.WriteFile(filepath.Join(cfg, "settings.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(cfg, "transmission.log")
	logf, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-g", cfg, "-w", o.Dir, "-p", strconv.Itoa(o.Port), "-M", "-D", "-U", "-B", encFlag, o.TorrentFile}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("peertest: start transmission-cli: %v", err)
	}
	tr := &Transmission{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)), cmd: cmd, log: log}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			t.Logf("transmission log (tail):\n%s", tail(tr.Log(), 4000))
		}
	})
	waitListening(t, tr.Addr, 20*time.Second, tr.Log)
	return tr
}

// Log returns what transmission-cli printed so far.
func (tr *Transmission) Log() string {
	b, _ := os.ReadFile(tr.log)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
