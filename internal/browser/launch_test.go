package browser

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"
)

func TestFindMissing(t *testing.T) {
	cases := []struct {
		name string
		path func(dir string) string
	}{
		{"absent", func(dir string) string { return filepath.Join(dir, "no-such-chromium") }},
		{"directory", func(dir string) string { return dir }},
		{"not executable", func(dir string) string {
			p := filepath.Join(dir, "chromium")
			if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPath, tc.path(t.TempDir()))
			if _, err := Find(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Find() error = %v, want ErrNotFound", err)
			}
			if _, _, err := Launch(context.Background()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Launch() error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestFindDefault(t *testing.T) {
	t.Setenv(EnvPath, "")
	p, err := Find()
	if err != nil {
		t.Fatalf("Find() = %v; install the Debian package chromium (scripts/test.sh does)", err)
	}
	if p != Path {
		t.Fatalf("Find() = %q, want %q", p, Path)
	}
}

// TestLaunch loads a page from a real local HTTP server, runs script in it,
// and checks that cancel leaves no process, no profile and no goroutine.
func TestLaunch(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	addr, stop := serve(t, "<title>plezi browser test</title><p id=p>hello</p>")
	defer stop()

	ctx, cancel, err := Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	proc := chromedp.FromContext(ctx).Browser.Process()
	if proc == nil {
		t.Fatal("no browser process")
	}
	profile := userDataDir(t, proc.Pid)

	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "plezi browser test" {
		t.Fatalf("Title() = %q, %v", title, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("p").textContent.length + 1`))
	if err != nil || n != 6 {
		t.Fatalf("Evaluate = %d, %v; want 6", n, err)
	}
	secondTab(t, ctx, addr)

	cancel()
	cancel() // idempotent
	if err := proc.Signal(syscall.Signal(0)); err == nil {
		t.Fatalf("browser pid %d still alive after cancel", proc.Pid)
	}
	if _, err := os.Stat(profile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("profile %s still there after cancel (stat err %v)", profile, err)
	}
}

// secondTab opens another tab of the same browser and checks that it shares
// the origin's localStorage with the first, as the JS client relies on.
func secondTab(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`localStorage.setItem("k", "v1")`)); err != nil {
		t.Fatal(err)
	}
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if err := chromedp.Do(tab, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	v, err := chromedp.Run(tab, chromedp.Evaluate[string](`localStorage.getItem("k")`))
	if err != nil || v != "v1" {
		t.Fatalf("second tab localStorage = %q, %v", v, err)
	}
}

// userDataDir reads the --user-data-dir switch of the running browser.
func userDataDir(t *testing.T, pid int) string {
	t.Helper()
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
		if dir, ok := strings.CutPrefix(string(arg), "--user-data-dir="); ok {
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("profile dir: %v", err)
			}
			return dir
		}
	}
	t.Fatalf("no --user-data-dir in %q", cmdline)
	return ""
}

// serve runs a real HTTP server on a loopback port; stop shuts it down and
// waits for it.
func serve(t *testing.T, page string) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
		<-done
	}
}
