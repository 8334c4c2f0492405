package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStaticServesTheExactBytes: the static copy, started through the very
// function its child process runs, serves each document byte for byte with
// its Content-Type at its path, nothing elsewhere, and stops when its
// standard input ends.
func TestStaticServesTheExactBytes(t *testing.T) {
	dir := t.TempDir()
	docs := []staticDoc{
		{Path: "/.well-known/openid-configuration", ContentType: "application/json; charset=utf-8",
			body: []byte("{\"issuer\":\"http://localhost:8095\",\n \"jwks_uri\":\"http://localhost:8095/jwks.json\"}\n")},
		{Path: "/jwks.json", ContentType: "application/jwk-set+json", body: bytes.Repeat([]byte(`{"keys":[]}`), 400)},
	}
	if err := writeStatic(dir, docs); err != nil {
		t.Fatal(err)
	}
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- staticMain([]string{staticFlag, "127.0.0.1:0", "-static-dir", dir}, stdinR, stdoutW, &stderr)
		stdoutW.Close()
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed: %v (%s)", err, stderr.String())
	}
	base := "http://" + strings.TrimSpace(line)
	for _, d := range docs {
		res, err := http.Get(base + d.Path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", d.Path, err)
		}
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, d.body) || res.Header.Get("Content-Type") != d.ContentType {
			t.Errorf("GET %s: %d, %q, %d bytes; want 200, %q, the %d bytes written", d.Path, res.StatusCode,
				res.Header.Get("Content-Type"), len(body), d.ContentType, len(d.body))
		}
	}
	res, err := http.Get(base + "/.well-known/openid-configuration/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %d, want 404", res.StatusCode)
	}
	stdinW.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d after stdin ended (%s)", code, stderr.String())
	}
}

// TestStaticListensOnLoopbackOnly: the child refuses any other address.
func TestStaticListensOnLoopbackOnly(t *testing.T) {
	var stderr bytes.Buffer
	if code := staticMain([]string{staticFlag, "0.0.0.0:0", "-static-dir", t.TempDir()}, strings.NewReader(""), io.Discard, &stderr); code != 2 {
		t.Errorf("exit status %d, want 2 (%s)", code, stderr.String())
	}
}
