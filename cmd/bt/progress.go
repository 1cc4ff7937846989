package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/termtext"
)

// transferProgress shows a download's progress: on a terminal one status
// line redrawn in place, cut to the terminal's width; otherwise a plain
// line every few seconds, each naming the torrent. Percent, sizes and the
// time left are of the files chosen for download (--only, --skip).
type transferProgress struct {
	w     io.Writer
	fd    int // the terminal's descriptor; -1 for plain lines
	name  string
	last  time.Time
	start time.Time
	drawn bool // a status line is on the terminal
	every time.Duration
}

func newTransferProgress(w io.Writer, name string) *transferProgress {
	p := &transferProgress{w: w, fd: -1, name: termtext.Safe(name), start: time.Now(), every: 5 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.fd = int(f.Fd())
	}
	return p
}

// columns is the terminal's width (80 if it cannot be read).
func (p *transferProgress) columns() int {
	if c, _, err := term.GetSize(p.fd); err == nil && c > 0 {
		return c
	}
	return 80
}

// status is the progress of tor, in fields from the most to the least
// useful: the display drops fields from the end when the line is short.
func status(s bt.Stats) (pct float64, fields []string) {
	switch {
	case s.NumPieces == 0:
		return -1, []string{"fetching metadata", plural(s.Peers, "peer")}
	case s.Checking:
		pct = 100 * float64(s.Checked) / float64(max(s.ToCheck, 1))
		return pct, []string{fmt.Sprintf("checking %5.1f%%", pct), fmt.Sprintf("%d of %d pieces", s.Checked, s.ToCheck)}
	}
	wanted := max(s.Wanted, 1)
	done := max(s.Wanted-max(s.Left, 0), 0)
	pct = 100 * float64(done) / float64(wanted)
	fields = []string{fmt.Sprintf("%5.1f%%", pct), sizeString(done) + " of " + sizeString(s.Wanted)}
	if s.DownloadRate >= 1 {
		fields = append(fields, "↓ "+rateString(s.DownloadRate))
	}
	if s.Left > 0 && s.DownloadRate >= 1 {
		fields = append(fields, "ETA "+durationString(time.Duration(float64(s.Left)/s.DownloadRate*float64(time.Second))))
	}
	fields = append(fields, plural(s.Peers, "peer"))
	if s.UploadRate >= 1 {
		fields = append(fields, "↑ "+rateString(s.UploadRate))
	}
	return pct, fields
}

// line renders a status line of at most cols columns: the name (shortened
// in the middle when needed), a bar when there is room, then the fields.
func line(name string, pct float64, fields []string, cols int) string {
	for n := len(fields); n > 0; n-- {
		st := strings.Join(fields[:n], "  ")
		room := cols - width(st) - 2 // "  " after the name
		if room < 8 && n > 1 {
			continue // keep at least 8 columns of the name
		}
		if room < 1 {
			return shorten(st, cols)
		}
		nm := name
		bar := ""
		if pct >= 0 && room-min(width(nm), 30) >= 12 {
			bw := min(room-min(width(nm), 30)-2, 30)
			fill := int(float64(bw) * pct / 100)
			bar = "[" + strings.Repeat("=", fill) + strings.Repeat(" ", bw-fill) + "]  "
			room -= bw + 4
		}
		return shorten(nm, room) + "  " + bar + st
	}
	return shorten(name, cols)
}

// update draws tor's progress now (on a terminal) or when a plain line is
// due.
func (p *transferProgress) update(tor *bt.Torrent) {
	if p.w == io.Discard {
		return
	}
	s := tor.Stats()
	pct, fields := status(s)
	if p.fd < 0 {
		// The first plain line waits for a rate worth showing, or for
		// the interval.
		if time.Since(p.last) < p.every || p.last.IsZero() && time.Since(p.start) < p.every && s.DownloadRate < 1 && !s.Checking {
			return
		}
		p.last = time.Now()
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		fmt.Fprintf(p.w, "%s: %s\n", p.name, strings.Join(fields, ", "))
		return
	}
	// One column is left free: writing the last one wraps on some
	// terminals.
	fmt.Fprintf(p.w, "\r%s\x1b[K", line(p.name, pct, fields, p.columns()-1))
	p.drawn = true
}

// clear removes the status line from the terminal before other output.
func (p *transferProgress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// summary prints the end of a download: what, how long, how fast, where.
func (p *transferProgress) summary(tor *bt.Torrent) {
	p.clear()
	s := tor.Stats()
	elapsed := time.Since(p.start)
	files, wanted := 0, int64(0)
	for _, f := range tor.Files() {
		if f.Priority > 0 && !f.Pad {
			files++
			wanted += f.Length
		}
	}
	where := filepath.Join(tor.Dir(), tor.Name())
	if abs, err := filepath.Abs(where); err == nil {
		where = abs
	}
	fmt.Fprintf(p.w, "%s: complete\n", p.name)
	fmt.Fprintf(p.w, "  files       %s, %s\n", plural(files, "file"), sizeString(wanted))
	rate := ""
	if sec := elapsed.Seconds(); sec > 0 && s.Downloaded > 0 {
		rate = ", " + rateString(float64(s.Downloaded)/sec) + " on average"
	}
	fmt.Fprintf(p.w, "  downloaded  %s in %s%s\n", sizeString(s.Downloaded), durationString(elapsed), rate)
	fmt.Fprintf(p.w, "  saved in    %s\n", termtext.Safe(where))
}

// seeding shows a seed's state: redrawn in place on a terminal, a plain
// line otherwise.
func (p *transferProgress) seeding(s bt.Stats) {
	if p.w == io.Discard {
		return
	}
	fields := []string{"seeding", "↑ " + sizeString(s.Uploaded)}
	if s.UploadRate >= 1 {
		fields = append(fields, rateString(s.UploadRate))
	}
	fields = append(fields, plural(s.Peers, "peer"))
	if s.Size > 0 {
		fields = append(fields, fmt.Sprintf("ratio %.2f", float64(s.Uploaded)/float64(s.Size)))
	}
	if p.fd < 0 {
		fmt.Fprintf(p.w, "%s: %s\n", p.name, strings.Join(fields, ", "))
		return
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line(p.name, -1, fields, p.columns()-1))
	p.drawn = true
}
