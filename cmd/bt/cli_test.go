package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bt-go/bt/resume"
)

// TestDownloadRefusals: command lines that could never download say so at
// once, in one sentence, and leave no directory behind.
func TestDownloadRefusals(t *testing.T) {
	_, file, _ := seedFixture(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	fresh := filepath.Join(t.TempDir(), "new", "dir")
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"download", "--state-dir", "", "--dir", t.TempDir(), "--skip", "*", file}, "leave no file of pack to download"},
		{[]string{"download", "--state-dir", "", "--dir", t.TempDir(), "--no-dht", magnet}, "nothing can find peers for this magnet link"},
		{[]string{"cat", "--no-dht", magnet}, "nothing can find peers"},
		{[]string{"serve", "--http", "127.0.0.1:0", "--no-dht", magnet}, "nothing can find peers"},
		{[]string{"download", "--state-dir", "", "--dir", t.TempDir(), "--port", "99999", file}, "--port 99999 is not a port number"},
		{[]string{"download", "--state-dir", "", "--dir", fresh, "--port", itoa(busy), "--peer", "127.0.0.1:1", file}, "already in use"},
		{[]string{"download", "--state-dir", unwritableDir(t), "--dir", t.TempDir(), "--peer", "127.0.0.1:1", file}, "state directory /proc cannot be used"},
		{[]string{"download", "--state-dir", "", "--dir", t.TempDir(), "magnet:?xt=urn:btih:nothex"}, "invalid magnet link"},
	} {
		resetCommands(rootCmd) // as run does: no flag from the row before
		_, err := execute(t, context.Background(), c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
			continue
		}
		if msg := plainError(err); strings.Contains(msg, "\n") || strings.Count(msg, "metainfo")+strings.Count(msg, "bt: ") > 0 {
			t.Errorf("%v: error %q is not one plain sentence", c.args, msg)
		}
	}
	if _, err := os.Stat(filepath.Dir(fresh)); err == nil {
		t.Errorf("a download that failed to start left its new directory %s", fresh)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := execute(t, context.Background(), args...)
		if err != nil || !strings.Contains(out, "bt 0.0.1 (peer id -BT0010-)") {
			t.Errorf("bt %v: %v %q", args, err, out)
		}
	}
	out, _ := execute(t, context.Background(), "version")
	if !strings.Contains(out, "built with go") {
		t.Errorf("bt version: %q", out)
	}
}

// TestInfoJSONMagnet: a magnet link's JSON keeps its "&" and has no
// length rather than a length of 0.
func TestInfoJSONMagnet(t *testing.T) {
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x&tr=http%3A%2F%2Ft.example%2Fannounce"
	out, _, code := miRun(t, "info", "--json", magnet)
	if code != 0 || strings.Contains(out, `\u0026`) || !strings.Contains(out, `&dn=x`) {
		t.Errorf("bt info --json: %d %s", code, out)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if l, ok := v["total_length"]; !ok || l != nil {
		t.Errorf("total_length = %v, want null", l)
	}
}

// TestCreateRefusals: a tracker bt cannot announce to, or an output that
// cannot be written, is refused before any hashing.
func TestCreateRefusals(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.bin")
	os.WriteFile(data, []byte("some data"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "-t", "ftp://tracker.example/announce", "-o", filepath.Join(dir, "a.torrent"), data}, "not an http, https or udp tracker URL"},
		{[]string{"create", "-t", "http://a.example/announce,wss://b.example", "-o", filepath.Join(dir, "a.torrent"), data}, `"wss://b.example"`},
		{[]string{"create", "-o", filepath.Join(unwritableDir(t), "a.torrent"), data}, "cannot be written"},
		{[]string{"create", "-o", filepath.Join(dir, "no", "such", "a.torrent"), data}, "cannot be written"},
	} {
		out, errOut, code := miRun(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Contains(out, "hashing") {
			t.Errorf("bt %v: exit %d, stdout %q, stderr %q; want %q", c.args, code, out, errOut, c.want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestForgetUnknown: forgetting what is not recorded is an error.
func TestForgetUnknown(t *testing.T) {
	state := t.TempDir()
	if _, err := resume.Open(state); err != nil {
		t.Fatal(err)
	}
	_, err := execute(t, context.Background(), "forget", "--state-dir", state, "0123456789abcdef0123456789abcdef01234567")
	if err == nil || !strings.Contains(err.Error(), "is not recorded") {
		t.Errorf("forget of an unknown hash: %v", err)
	}
}
