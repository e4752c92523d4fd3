package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const opsKey = "ops-test-key-0123456789"

// httpGet GETs url with the header lines hdr and returns status and body.
func httpGet(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: bootTimeout}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOpsRoutes: run mounts /metrics and /status.json behind -api-key, the
// status page at /status, /healthz and /readyz; the demo page keeps /.
func TestOpsRoutes(t *testing.T) {
	t.Parallel()
	s := bootPlezi(t, "-api-key", opsKey)
	base := "http://" + s.addr
	key := "X-API-Key: " + opsKey
	for _, c := range []struct {
		path, hdr string
		status    int
		has       string
	}{
		{"/metrics", "", 401, ""},
		{"/metrics", key, 200, "plezi_upgrades_total"},
		{"/metrics", "Authorization: apikey " + opsKey, 200, "plezi_info{"},
		{"/status.json", "", 401, ""},
		{"/status.json", key, 200, `"ready":true`},
		{"/status", "", 200, "/status.json"},
		{"/healthz", "", 200, "ok"},
		{"/readyz", "", 200, "ready"},
		{"/", "", 200, "plezi.js"},
	} {
		var hdr []string
		if c.hdr != "" {
			hdr = []string{c.hdr}
		}
		if status, body := httpGet(t, base+c.path, hdr...); status != c.status || !strings.Contains(body, c.has) {
			t.Errorf("GET %s (%q): %d %.80q, want %d with %q", c.path, c.hdr, status, body, c.status, c.has)
		}
	}
}

// TestOpsMetricsAddr: -metrics-addr (here from the config file) serves
// /metrics there, without the key, and not on the main port.
func TestOpsMetricsAddr(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // a free port for the node to bind
	s := bootPlezi(t, "-api-key", opsKey, "-config", writeTOML(t, `metrics-addr = "`+addr+`"`))
	if status, _ := httpGet(t, "http://"+s.addr+"/metrics", "X-API-Key: "+opsKey); status != http.StatusNotFound {
		t.Fatalf("/metrics on the main port: %d, want 404", status)
	}
	if status, body := httpGet(t, "http://"+addr+"/metrics"); status != 200 || !strings.Contains(body, "plezi_websockets 0") {
		t.Fatalf("/metrics on %s: %d %.200q", addr, status, body)
	}
}

// TestOpsDrainDelay: with -drain-delay, /readyz answers 503 at shutdown
// while /healthz still answers 200, and run returns after the delay.
func TestOpsDrainDelay(t *testing.T) {
	t.Parallel()
	s := bootPlezi(t, "-api-key", opsKey, "-drain-delay", "2s")
	s.cancel()
	eventually(t, 5*time.Second, "/readyz 503", func() bool {
		status, _ := httpGet(t, "http://"+s.addr+"/readyz")
		return status == http.StatusServiceUnavailable
	})
	if status, _ := httpGet(t, "http://"+s.addr+"/healthz"); status != 200 {
		t.Fatalf("/healthz while not ready: %d", status)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestLogFormat: -log-format json writes JSON lines, at -log-level and
// above; -quiet keeps at least warn.
func TestLogFormat(t *testing.T) {
	t.Parallel()
	o, err := parse([]string{"-log-format", "json", "-log-level", "debug"}, envMap(), new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o.logger(&out).Debug("hello", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || line["msg"] != "hello" || line["level"] != "DEBUG" {
		t.Fatalf("json log %q: %v", out.String(), err)
	}
	o, err = parse([]string{"-quiet", "-log-level", "debug"}, envMap(), new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	l := o.logger(&out)
	l.Info("dropped")
	l.Warn("kept")
	sc := bufio.NewScanner(&out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "msg=kept") {
		t.Fatalf("-quiet text log: %q", lines)
	}
}
