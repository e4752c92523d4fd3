package server_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plezigo/plezi/server"
)

// countFS counts the bytes read from the files of a real file system.
type countFS struct {
	fs.FS
	read *atomic.Int64
}

func (c countFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return countFile{f, c.read}, nil
}

type countFile struct {
	fs.File
	read *atomic.Int64
}

func (f countFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.read.Add(int64(n))
	return n, err
}

const bigFile = 64 << 20

// bigFiles writes a 64 MiB sparse file with a marker every MiB and a
// 2 MiB random one into a temp directory, served at /files/ through a
// counting os.Root file system.
func bigFiles(t *testing.T) (n *node, dir string, read *atomic.Int64) {
	t.Helper()
	dir = t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err == nil {
		err = f.Truncate(bigFile)
	}
	for off := 0; err == nil && off < bigFile; off += 1 << 20 {
		_, err = f.WriteAt([]byte(fmt.Sprintf("@%d@", off)), int64(off))
	}
	if err == nil {
		err = f.Close()
	}
	mid := make([]byte, 2<<20)
	_, _ = rand.Read(mid)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "mid.bin"), mid, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Close() })
	read = new(atomic.Int64)
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	routes(s)
	s.StaticFS("/files", countFS{root.FS(), read})
	return run(t, s), dir, read
}

func fileSum(t *testing.T, name string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// slowConn dials with a small receive buffer, so that a client that stops
// reading backs the server up quickly.
func slowConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: wait, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(4 * wait))
	return c
}

func request(t *testing.T, c net.Conn, br *bufio.Reader, method, path, extra string) *http.Response {
	t.Helper()
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", method, path, extra); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s: %v %v", method, path, resp, err)
	}
	return resp
}

// TestStaticHeadReadsNothing: HEAD answers from Stat alone (issue: it
// read the whole file).
func TestStaticHeadReadsNothing(t *testing.T) {
	t.Parallel()
	n, _, read := bigFiles(t)
	resp, body := get(t, "HEAD", "http://"+n.Addr()+"/files/big.bin", nil)
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != bigFile {
		t.Fatalf("HEAD: %d %q, length %d", resp.StatusCode, body, resp.ContentLength)
	}
	if got := read.Load(); got != 0 {
		t.Fatalf("HEAD read %d bytes of the file", got)
	}
	if resp, _ := get(t, "HEAD", "http://"+n.Addr()+"/files/mid.bin", nil); resp.ContentLength != 2<<20 || read.Load() != 0 {
		t.Fatalf("HEAD mid.bin: length %d, read %d", resp.ContentLength, read.Load())
	}
}

// TestStaticStreamsLargeFile: a 64 MiB file goes to a client that keeps
// stopping to read; the server holds at most StaticBuffer bytes of it
// (its own high-water gauge), reads the file once, and the bytes arrive
// intact. The connection then serves the next request.
func TestStaticStreamsLargeFile(t *testing.T) {
	t.Parallel()
	n, dir, read := bigFiles(t)
	st := n.Stats()
	c := slowConn(t, n.Addr())
	br := bufio.NewReader(c)
	resp := request(t, c, br, "GET", "/files/big.bin", "")
	if resp.ContentLength != bigFile {
		t.Fatalf("Content-Length %d", resp.ContentLength)
	}
	h := sha256.New()
	for i := range 3 { // stop reading, until the server waits for us
		waits := st.StaticWaits.Load()
		eventually(t, "the stream waiting for the client", func() bool { return st.StaticWaits.Load() > waits })
		if _, err := io.CopyN(h, resp.Body, 8<<20); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	if want := fileSum(t, filepath.Join(dir, "big.bin")); [32]byte(h.Sum(nil)) != want {
		t.Fatal("content differs")
	}
	if got := st.StaticHeldMax.Load(); got <= 0 || got > 256<<10 {
		t.Fatalf("StaticHeldMax = %d, want 1..%d", got, 256<<10)
	}
	if got := read.Load(); got != bigFile {
		t.Fatalf("read %d bytes of the file, want %d", got, bigFile)
	}
	resp = request(t, c, br, "GET", "/files/mid.bin", "Connection: close\r\n")
	b, err := io.ReadAll(resp.Body)
	if err != nil || sha256.Sum256(b) != fileSum(t, filepath.Join(dir, "mid.bin")) {
		t.Fatalf("mid.bin after the stream: %d bytes, %v", len(b), err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after Connection: close: %v, want EOF", err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/octet-stream") {
		t.Fatalf("sniffed type %q", resp.Header.Get("Content-Type"))
	}
}
