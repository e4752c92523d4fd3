package ops

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// textFormat is the Prometheus text exposition format.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// metrics answers /metrics on the server's port (behind the key). It runs
// on a worker goroutine; a scrape reads every counter once.
func (o *Ops) metrics(*dispatch.Request, []byte) server.Response {
	mfs, err := o.reg.Gather()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, textFormat)
	for _, mf := range mfs {
		err = errors.Join(err, enc.Encode(mf))
	}
	if err != nil {
		o.cfg.Logger.Warn("ops: metrics", "err", err)
	}
	return server.Response{ContentType: string(textFormat), Body: buf.Bytes()}
}

// listen binds the metrics listener and serves /metrics on it, in its own
// goroutine, once the server is ready (its broker is known then).
func (o *Ops) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{o}}))
	o.ln = ln
	o.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 75 * time.Second}
	o.wg.Add(1)
	go o.serveMetrics()
	return nil
}

func (o *Ops) serveMetrics() {
	defer o.wg.Done()
	select {
	case <-o.srv.Ready():
	case <-o.closed:
		return
	}
	if err := o.hs.Serve(o.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		o.cfg.Logger.Error("ops: metrics listener", "err", err)
	}
}

// slogPrinter is promhttp's error log.
type slogPrinter struct{ o *Ops }

func (p slogPrinter) Println(v ...any) { p.o.cfg.Logger.Warn("ops: metrics", "err", v) }
