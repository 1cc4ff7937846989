package bt

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECommands: the README opens with a command that runs bt from a
// clone and the test command, and that test command is the one CI runs.
func TestREADMECommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, m := range regexp.MustCompile(`(?m)^    (go \S+ .*?)\s*(#.*)?$`).FindAllStringSubmatch(string(readme), 2) {
		cmds = append(cmds, m[1])
	}
	if len(cmds) != 2 || !strings.HasPrefix(cmds[0], "go run ./cmd/bt ") && cmds[0] != "go install ./cmd/bt" ||
		!strings.HasPrefix(cmds[1], "go test ") {
		t.Fatalf("the README's first commands are %q, want a go run ./cmd/bt (or go install ./cmd/bt) and a go test", cmds)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmds[1]) + `$`).Match(ci) {
		t.Errorf(".ci/run does not run the README's test command %q", cmds[1])
	}
}
