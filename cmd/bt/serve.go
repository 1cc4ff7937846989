package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
)

func init() { rootCmd.AddCommand(newServeCmd()) }

func newServeCmd() *cobra.Command {
	var f streamFlags
	var addr string
	cmd := &cobra.Command{
		Use:   "serve [--http ADDR] [--dir DIR] [--peer HOST:PORT]... FILE.torrent|MAGNET",
		Short: "Download a torrent and serve its files over HTTP while it downloads",
		Long: `Serve downloads a torrent and serves its files over HTTP at --http, with
range requests, so a video player can play a file while it downloads: a
request waits for the pieces it reads, which are fetched first, and only
verified data is sent. The page at / lists the files; each one is at
/files/INDEX/NAME. The download goes on in the background until interrupted.

Without --dir the data goes into a temporary directory removed at the end.`,
		Example: `  bt serve --peer 192.0.2.7:6881 talk.torrent
  mpv http://127.0.0.1:8080/files/0/talk.mkv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], addr, &f)
		},
	}
	cmd.Flags().StringVar(&addr, "http", "127.0.0.1:8080", "address to serve HTTP on")
	f.register(cmd, "download directory (default: a temporary one, removed at the end)")
	return cmd
}

func runServe(ctx context.Context, stdout, stderr io.Writer, arg, addr string, f *streamFlags) error {
	src, err := loadSource(arg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: --http %s: %s", addr, plainError(unwrapOpError(err)))
	}
	s, err := openStream(stderr, "serve", src, f, &bt.TorrentOptions{})
	if err != nil {
		ln.Close()
		return err
	}
	defer s.Close()
	srv := &http.Server{Handler: newStreamHandler(s.tor), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	out := stdout
	if f.quiet {
		out = io.Discard
	}
	fmt.Fprintf(out, "serving %s at http://%s/ ; interrupt to stop\n", src.name(), ln.Addr())
	defer s.show(out)()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-done
		return nil
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	}
}

// streamHandler serves a torrent's files over HTTP: an index page at /,
// each file at /files/INDEX/NAME with range requests, read through a
// bt.Reader so that a request streams the file as it downloads.
type streamHandler struct {
	tor *bt.Torrent
	mux *http.ServeMux
}

func newStreamHandler(tor *bt.Torrent) http.Handler {
	h := &streamHandler{tor: tor, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /files/{index}/{name...}", h.file)
	return h.mux
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Name}}</title></head>
<body><h1>{{.Name}}</h1>
{{if not .Files}}<p>Waiting for the metadata; reload in a moment.</p>{{end}}
<ul>{{range .Files}}
<li><a href="{{.URL}}">{{.Path}}</a> ({{.Size}})</li>{{end}}
</ul><p>{{.Progress}}</p></body></html>
`))

type indexFile struct {
	URL, Path, Size string
}

// unwrapOpError drops the "listen tcp ADDR: " a net.OpError adds.
func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func (h *streamHandler) index(w http.ResponseWriter, r *http.Request) {
	st := h.tor.Stats()
	data := struct {
		Name     string
		Files    []indexFile
		Progress string
	}{Name: h.tor.Name()}
	for _, f := range h.tor.Files() {
		if f.Pad {
			continue
		}
		rel := strings.TrimPrefix(f.Path, h.tor.Dir()+"/")
		data.Files = append(data.Files, indexFile{
			URL:  "/files/" + strconv.Itoa(f.Index) + "/" + (&url.URL{Path: path.Base(rel)}).EscapedPath(),
			Path: rel, Size: sizeString(f.Length)})
	}
	if st.NumPieces > 0 {
		data.Progress = fmt.Sprintf("%d of %d pieces verified, %d peers", st.Pieces, st.NumPieces, st.Peers)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexPage.Execute(w, data)
}

func (h *streamHandler) file(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.Atoi(r.PathValue("index"))
	files := h.tor.Files()
	if err != nil || idx < 0 || idx >= len(files) || files[idx].Pad {
		http.NotFound(w, r)
		return
	}
	rd, err := h.tor.NewReader(idx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer rd.Close()
	rd.SetContext(r.Context())
	// ServeContent answers range requests, conditional requests and HEAD,
	// and takes the content type from the name.
	http.ServeContent(w, r, path.Base(files[idx].Path), time.Time{}, rd)
}
