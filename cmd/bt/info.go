package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bt-go/bt/internal/termtext"
	"github.com/bt-go/bt/metainfo"
	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newInfoCmd()) }

func newInfoCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [--json] FILE.torrent|MAGNET",
		Short: "Show what a .torrent file or magnet link holds",
		Long: `Info shows a torrent's name, info hash, size, pieces, files (with the
indices other commands use to select them), trackers by tier, web seeds, its
private and hybrid flags, and its magnet link. For a magnet link it shows what
the link carries. Paths are shown as bt would write them on disk.`,
		Example: `  bt info ubuntu.torrent
  bt info --json ubuntu.torrent
  bt info 'magnet:?xt=urn:btih:...'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			arg := args[0]
			if strings.HasPrefix(strings.ToLower(arg), "magnet:") {
				m, err := metainfo.ParseMagnet(arg)
				if err != nil {
					return cliError("info", err)
				}
				if asJSON {
					return writeJSON(w, magnetJSON(m))
				}
				printMagnet(w, m)
				return nil
			}
			src, err := loadSource(arg)
			if err != nil {
				return fmt.Errorf("info: %w", err)
			}
			m := src.mi
			if asJSON {
				return writeJSON(w, torrentJSON(m))
			}
			printTorrent(w, m)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// infoFile is one file in bt info's JSON.
type infoFile struct {
	Index  int    `json:"index"`
	Path   string `json:"path"`
	Length int64  `json:"length"`
	Offset int64  `json:"offset"`
	Pad    bool   `json:"pad,omitempty"`
	Attr   string `json:"attr,omitempty"`
}

// infoTorrent is bt info's JSON for a torrent or a magnet link.
type infoTorrent struct {
	Name         string                `json:"name"`
	InfoHash     string                `json:"info_hash"`
	InfoHashV2   string                `json:"info_hash_v2,omitempty"`
	TotalLength  *int64                `json:"total_length"` // null: a magnet link without xl
	PieceLength  int64                 `json:"piece_length,omitempty"`
	NumPieces    int                   `json:"num_pieces,omitempty"`
	Private      bool                  `json:"private"`
	Hybrid       bool                  `json:"hybrid"`
	Files        []infoFile            `json:"files,omitempty"`
	Trackers     [][]string            `json:"trackers"`
	WebSeeds     []string              `json:"web_seeds"`
	Peers        []string              `json:"peers,omitempty"`
	SelectOnly   []metainfo.IndexRange `json:"select_only,omitempty"`
	CreationDate int64                 `json:"creation_date,omitempty"`
	CreatedBy    string                `json:"created_by,omitempty"`
	Comment      string                `json:"comment,omitempty"`
	Source       string                `json:"source,omitempty"`
	Magnet       string                `json:"magnet"`
}

func torrentJSON(m *metainfo.MetaInfo) infoTorrent {
	l := m.Info.Layout()
	t := infoTorrent{
		Name: l.Files[0].Path[0], InfoHash: m.InfoHash.String(),
		TotalLength: &l.TotalLength, PieceLength: l.PieceLength, NumPieces: l.NumPieces,
		Private: m.Info.Private, Hybrid: m.Info.Hybrid,
		Trackers: m.Trackers(), WebSeeds: m.URLList,
		CreationDate: m.CreationDate, CreatedBy: m.CreatedBy, Comment: m.Comment, Source: m.Info.Source,
		Magnet: m.Magnet().String(),
	}
	if t.Trackers == nil {
		t.Trackers = [][]string{}
	}
	if t.WebSeeds == nil {
		t.WebSeeds = []string{}
	}
	for _, f := range l.Files {
		t.Files = append(t.Files, infoFile{Index: f.Index, Path: strings.Join(f.Path, "/"),
			Length: f.Length, Offset: f.Offset, Pad: f.Pad, Attr: f.Attr})
	}
	return t
}

func magnetJSON(m *metainfo.Magnet) infoTorrent {
	t := infoTorrent{
		Name: m.Name, InfoHash: m.InfoHash.String(),
		Trackers: [][]string{}, WebSeeds: m.WebSeeds, Peers: m.Peers, SelectOnly: m.SelectOnly,
		Magnet: m.String(),
	}
	if m.Length > 0 {
		t.TotalLength = &m.Length
	}
	if len(m.InfoHashV2) > 0 {
		t.InfoHashV2 = fmt.Sprintf("%x", m.InfoHashV2)
	}
	for _, tr := range m.Trackers {
		t.Trackers = append(t.Trackers, []string{tr})
	}
	if t.WebSeeds == nil {
		t.WebSeeds = []string{}
	}
	return t
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // magnet links keep their "&"
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// safe makes text from a torrent or a link harmless on a terminal: its
// control characters are shown escaped (JSON output escapes them itself).
func safe(s string) string { return termtext.Safe(s) }

func printTorrent(w io.Writer, m *metainfo.MetaInfo) {
	l := m.Info.Layout()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", safe(l.Files[0].Path[0]))
	fmt.Fprintf(tw, "info hash:\t%s\n", m.InfoHash)
	fmt.Fprintf(tw, "size:\t%s (%d bytes)\n", humanSize(l.TotalLength), l.TotalLength)
	fmt.Fprintf(tw, "pieces:\t%d of %s\n", l.NumPieces, humanSize(l.PieceLength))
	fmt.Fprintf(tw, "private:\t%s\n", yesNo(m.Info.Private))
	hybrid := yesNo(m.Info.Hybrid)
	if m.Info.Hybrid {
		hybrid += " (v1+v2; bt uses the v1 side)"
	}
	fmt.Fprintf(tw, "hybrid:\t%s\n", hybrid)
	if m.CreationDate != 0 {
		fmt.Fprintf(tw, "created:\t%s\n", time.Unix(m.CreationDate, 0).UTC().Format(time.RFC3339))
	}
	if m.CreatedBy != "" {
		fmt.Fprintf(tw, "created by:\t%s\n", safe(m.CreatedBy))
	}
	if m.Comment != "" {
		fmt.Fprintf(tw, "comment:\t%s\n", safe(m.Comment))
	}
	if m.Info.Source != "" {
		fmt.Fprintf(tw, "source:\t%s\n", safe(m.Info.Source))
	}
	tw.Flush()
	fmt.Fprintln(w, "trackers:")
	if len(m.Trackers()) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for i, tier := range m.Trackers() {
		for j, u := range tier {
			if j == 0 {
				fmt.Fprintf(w, "  tier %d: %s\n", i, safe(u))
			} else {
				fmt.Fprintf(w, "          %s\n", safe(u))
			}
		}
	}
	if len(m.URLList) > 0 {
		fmt.Fprintln(w, "web seeds:")
		for _, u := range m.URLList {
			fmt.Fprintf(w, "  %s\n", safe(u))
		}
	}
	pads := 0
	for _, f := range l.Files {
		if f.Pad {
			pads++
		}
	}
	fmt.Fprintf(w, "files: %d", len(l.Files)-pads)
	if pads > 0 {
		fmt.Fprintf(w, " (and %d pad files, not shown)", pads)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, f := range l.Files {
		if f.Pad {
			continue
		}
		fmt.Fprintf(tw, "  %d\t%s\t  %s\n", f.Index, humanSize(f.Length), safe(strings.Join(f.Path, "/")))
	}
	tw.Flush()
	fmt.Fprintf(w, "magnet: %s\n", m.Magnet())
}

func printMagnet(w io.Writer, m *metainfo.Magnet) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if m.Name != "" {
		fmt.Fprintf(tw, "name:\t%s\n", safe(m.Name))
	}
	fmt.Fprintf(tw, "info hash:\t%s\n", m.InfoHash)
	if len(m.InfoHashV2) > 0 {
		fmt.Fprintf(tw, "v2 info hash:\t%x\n", m.InfoHashV2)
	}
	if m.Length > 0 {
		fmt.Fprintf(tw, "size:\t%s (%d bytes)\n", humanSize(m.Length), m.Length)
	}
	tw.Flush()
	fmt.Fprintln(w, "trackers:")
	if len(m.Trackers) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, u := range m.Trackers {
		fmt.Fprintf(w, "  %s\n", safe(u))
	}
	if len(m.WebSeeds) > 0 {
		fmt.Fprintln(w, "web seeds:")
		for _, u := range m.WebSeeds {
			fmt.Fprintf(w, "  %s\n", safe(u))
		}
	}
	if len(m.Peers) > 0 {
		fmt.Fprintln(w, "peers:")
		for _, p := range m.Peers {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(m.SelectOnly) > 0 {
		fmt.Fprint(w, "select only:")
		for _, r := range m.SelectOnly {
			if r.First == r.Last {
				fmt.Fprintf(w, " %d", r.First)
			} else {
				fmt.Fprintf(w, " %d-%d", r.First, r.Last)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "the metadata (files, pieces) comes from peers when the torrent is added")
	fmt.Fprintf(w, "magnet: %s\n", m)
}
