package hostile

// Static file probes: -static with a file far larger than what the server
// may hold for one response. HEAD reads nothing of it; GET streams it to a
// client that keeps stopping to read, within StaticBuffer.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// bigFile is the size of the sparse file the static probes serve.
const bigFile = 64 << 20

// staticBuffer is the server's default StaticBuffer: the most a static
// response keeps queued ahead of its client.
const staticBuffer = 256 << 10

// sparseFile writes a bigFile-byte sparse file with a marker every MiB
// (so that the content a client gets is checked for more than zeros) to a
// new directory, and returns the directory and the file's SHA-256.
func sparseFile(t testing.TB) (dir string, sum []byte) {
	t.Helper()
	dir = t.TempDir()
	name := filepath.Join(dir, "big.bin")
	f, err := os.Create(name)
	if err == nil {
		err = f.Truncate(bigFile)
	}
	for off := 0; err == nil && off < bigFile; off += 1 << 20 {
		_, err = f.WriteAt([]byte(fmt.Sprintf("@%d@", off)), int64(off))
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	h := sha256.New()
	if err == nil {
		_, err = io.Copy(h, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir, h.Sum(nil)
}

// TestStaticBigFile: with -static serving a 64 MiB file, four HEADs grow
// the process's peak RSS by less than 16 MiB (HEAD read the whole file
// before the fix), and a GET to a client that keeps stopping to read gets
// the file intact while the server holds at most StaticBuffer of it queued
// (static_held_max) and waits for the client (static_waits).
func TestStaticBigFile(t *testing.T) {
	t.Parallel()
	dir, sum := sparseFile(t)
	p := start(t, "-debug", "-static", dir)
	base := p.RSS()
	for i := range 4 {
		req, _ := http.NewRequest(http.MethodHead, "http://"+p.Addr+"/big.bin", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("HEAD %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != bigFile {
			t.Fatalf("HEAD %d: %s, Content-Length %d", i, resp.Status, resp.ContentLength)
		}
	}
	if grew := p.PeakRSS() - base; grew >= 16<<20 {
		t.Fatalf("4 HEADs of a 64 MiB file grew peak RSS by %d MiB", grew>>20)
	}
	h := slowGet(t, p, "/big.bin")
	if got := h.Sum(nil); !bytes.Equal(got, sum) {
		t.Fatalf("GET /big.bin: sha256 %x, want %x", got, sum)
	}
	st := p.Stats()
	if m := st["static_held_max"]; m <= 0 || m > staticBuffer {
		t.Fatalf("static_held_max %d, want 1..%d", m, staticBuffer)
	}
	if grew := p.PeakRSS() - base; grew >= 16<<20 {
		t.Fatalf("streaming a 64 MiB file grew peak RSS by %d MiB", grew>>20)
	}
}

// slowGet GETs path on a connection with a small receive buffer, stops
// reading three times until the server waits for it (static_waits moves),
// then reads the rest; it returns the SHA-256 of the body.
func slowGet(t testing.TB, p *proc, path string) hash.Hash {
	t.Helper()
	conn := dialRcvBuf(t, p, 64<<10)
	_ = conn.SetDeadline(time.Now().Add(3 * ioWait))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength != bigFile {
		t.Fatalf("GET %s: %v, %v", path, resp, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	for i := range 3 {
		waits := p.Stats()["static_waits"]
		eventually(t, ioWait, "the stream to wait for the client", func() bool { return p.Stats()["static_waits"] > waits })
		if _, err := io.CopyN(h, resp.Body, 8<<20); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n, err := io.Copy(h, resp.Body); err != nil || n != bigFile-3*8<<20 {
		t.Fatalf("the rest of %s: %d bytes, %v", path, n, err)
	}
	return h
}
