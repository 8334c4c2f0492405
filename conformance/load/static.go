package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The reference for the discovery scenario is a static server holding the
// issuer's discovery document and JWKS, byte for byte, with the same
// Content-Type, measured in the same run at the same concurrency: what
// serving those bytes costs in Go without any of the issuer's work. It runs
// in a child process, this same binary started with staticFlag, so that its
// CPU is not shared with the load generator's own scheduler and heap.

const (
	staticFlag     = "-static-serve"
	staticManifest = "manifest.json"
)

// staticDoc is one document of the static copy.
type staticDoc struct {
	Path        string `json:"path"` // the URL path it is served at
	File        string `json:"file"` // its file in the directory
	ContentType string `json:"content_type"`
	body        []byte
}

// writeStatic writes each document's bytes and a manifest naming their
// paths and types into dir.
func writeStatic(dir string, docs []staticDoc) error {
	for i := range docs {
		docs[i].File = "doc" + strconv.Itoa(i)
		if err := os.WriteFile(filepath.Join(dir, docs[i].File), docs[i].body, 0o600); err != nil {
			return err
		}
	}
	m, err := json.Marshal(docs)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, staticManifest), m, 0o600)
}

// staticHandler serves, at each path of the manifest in dir, that
// document's bytes, read once.
type staticHandler map[string]staticDoc

func loadStatic(dir string) (staticHandler, error) {
	m, err := os.ReadFile(filepath.Join(dir, staticManifest))
	if err != nil {
		return nil, err
	}
	var docs []staticDoc
	if err := json.Unmarshal(m, &docs); err != nil {
		return nil, fmt.Errorf("%s: %w", staticManifest, err)
	}
	h := staticHandler{}
	for _, d := range docs {
		if d.File != filepath.Base(d.File) {
			return nil, fmt.Errorf("%s: file %q is not in the directory", staticManifest, d.File)
		}
		if d.body, err = os.ReadFile(filepath.Join(dir, d.File)); err != nil {
			return nil, err
		}
		h[d.Path] = d
	}
	return h, nil
}

func (h staticHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, ok := h[r.URL.Path]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", d.ContentType)
	// Content-Length as any static file server sends it, so that net/http
	// does not chunk a document longer than its buffer.
	w.Header().Set("Content-Length", strconv.Itoa(len(d.body)))
	_, _ = w.Write(d.body)
}

// staticMain is the child: it serves the documents of -static-dir on the
// loopback address -static-serve (port 0: any), prints the address it
// listens on as its first line, and stops when its standard input ends,
// which is when the parent closes it or dies.
func staticMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load "+staticFlag, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String(strings.TrimPrefix(staticFlag, "-"), "", "loopback address to serve on, e.g. 127.0.0.1:0")
	dir := fs.String("static-dir", "", "directory written by the parent: the documents and "+staticManifest)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(stderr, "load %s: %q is not a loopback address\n", staticFlag, *addr)
		return 2
	}
	h, err := loadStatic(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "load "+staticFlag+":", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "load "+staticFlag+":", err)
		return 1
	}
	// net/http's defaults, as a plain Go static server has them.
	srv := &http.Server{Handler: h}
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		srv.Close()
	}()
	fmt.Fprintln(stdout, ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "load "+staticFlag+":", err)
		return 1
	}
	return 0
}

// staticCopy is the running child and the URLs it serves.
type staticCopy struct {
	cmd                   *exec.Cmd
	stdin                 io.Closer
	dir                   string
	base                  string
	discoveryURL, jwksURL string
}

// startStatic fetches the issuer's discovery document and the JWKS it
// names, and starts the child that serves them.
func startStatic(ctx context.Context, issuer string) (*staticCopy, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	discoveryPath := "/.well-known/openid-configuration"
	doc, err := fetchDoc(ctx, c, issuer+discoveryPath)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(doc.body, &meta); err != nil || meta.JWKSURI == "" {
		return nil, errors.New("static copy: the discovery document has no jwks_uri")
	}
	if err := loopbackOnly(meta.JWKSURI); err != nil {
		return nil, fmt.Errorf("discovery points elsewhere: %w", err)
	}
	ju, err := url.Parse(meta.JWKSURI)
	if err != nil {
		return nil, err
	}
	jwks, err := fetchDoc(ctx, c, meta.JWKSURI)
	if err != nil {
		return nil, err
	}
	doc.Path, jwks.Path = discoveryPath, ju.EscapedPath()
	dir, err := os.MkdirTemp("", "relais-load-static-")
	if err != nil {
		return nil, err
	}
	s := &staticCopy{dir: dir}
	if err := writeStatic(dir, []staticDoc{doc, jwks}); err != nil {
		s.stop()
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		s.stop()
		return nil, err
	}
	s.cmd = exec.Command(exe, staticFlag, "127.0.0.1:0", "-static-dir", dir)
	s.cmd.Stderr = os.Stderr
	stdin, err := s.cmd.StdinPipe()
	if err != nil {
		s.stop()
		return nil, err
	}
	s.stdin = stdin
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		s.stop()
		return nil, fmt.Errorf("static copy: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("static copy did not start: %w", err)
	}
	s.base = "http://" + strings.TrimSpace(line)
	s.discoveryURL = s.base + discoveryPath
	s.jwksURL = s.base + jwks.Path
	if ju.RawQuery != "" {
		s.jwksURL += "?" + ju.RawQuery
	}
	return s, nil
}

// stop kills the child and removes its directory.
func (s *staticCopy) stop() {
	if s.stdin != nil {
		s.stdin.Close()
	}
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}

func fetchDoc(ctx context.Context, c *http.Client, u string) (staticDoc, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return staticDoc{}, err
	}
	res, err := c.Do(req)
	if err != nil {
		return staticDoc{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return staticDoc{}, err
	}
	if res.StatusCode != http.StatusOK {
		return staticDoc{}, fmt.Errorf("static copy: GET %s: %w", u, &statusError{res.StatusCode, string(body)})
	}
	return staticDoc{ContentType: res.Header.Get("Content-Type"), body: body}, nil
}
