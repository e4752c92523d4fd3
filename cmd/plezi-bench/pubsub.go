package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/plezigo/plezi/bench"
)

// S9: idle memory of subscribed connections, then (with -rate) a fan-out of
// publishes made through the server's HTTP API, over the server's own push
// protocol (-proto plezi or centrifugo).

// pubsubOptions are the S9 flags.
type pubsubOptions struct {
	proto, apiKey, wsPath, apiPath, channel string
}

// bindPubSub declares the S9 flags on fs.
func bindPubSub(fs *flag.FlagSet, p *pubsubOptions) {
	fs.StringVar(&p.proto, "proto", bench.ProtoPlezi, "s9: push protocol, plezi (/push) or centrifugo (JSON protocol v2)")
	fs.StringVar(&p.apiKey, "api-key", "", "s9: the server's HTTP API key (X-API-Key)")
	fs.StringVar(&p.wsPath, "ws-path", "", "s9: websocket path (default: /push for plezi, /connection/websocket for centrifugo)")
	fs.StringVar(&p.apiPath, "api-path", "/api/publish", "s9: the HTTP API's publish call")
	fs.StringVar(&p.channel, "channel", bench.DefaultChannel, "s9: the channel every connection subscribes to")
}

// PubSubReport holds the S9 figures of a Report.
type PubSubReport struct {
	Proto string `json:"proto,omitempty"`
	// IdleRSSPerConn is the server's RSS growth per subscribed connection
	// once it settled, before any publish.
	IdleRSSPerConn float64 `json:"idle_rss_per_conn,omitempty"`
	Published      int64   `json:"published,omitempty"`    // publishes the API accepted
	PublishErrs    int64   `json:"publish_errs,omitempty"` // and refused or failed
	PublishLate    int64   `json:"publish_late,omitempty"` // waited for a slot (bench.MaxPublishInFlight)
	PublishErr     string  `json:"publish_err,omitempty"`  // the last failure
	APIP50         float64 `json:"api_p50_us,omitempty"`   // publish request round trip
	APIP99         float64 `json:"api_p99_us,omitempty"`
}

// pubsubConfig fills the engine configuration of an S9 worker.
func (s *session) pubsubConfig(c *bench.Config) {
	p := s.o.ps
	c.Proto, c.Path, c.Channel = p.proto, p.wsPath, p.channel
}

// pubsub (S9): every connection subscribed, the server's memory once it
// settles, then with -rate a fan-out of rate × duration publishes.
func (s *session) pubsub(ctx context.Context) error {
	r := s.r
	r.Proto = s.o.ps.proto
	if up := sum(s.ws).Up; up < int64(s.o.conns) && r.Status == "ok" {
		r.Status = fmt.Sprintf("partial: %d of %d connections subscribed", up, s.o.conns)
	}
	s.memory(s.settle(ctx))
	r.IdleRSSPerConn = r.RSSPerConn
	if s.o.rate <= 0 {
		_, err := s.finish()
		return err
	}
	pub, err := bench.NewPublisher("http://"+s.addrs[0]+s.o.ps.apiPath, s.o.ps.apiKey, s.o.ps.channel, s.o.payload)
	if err != nil {
		return fmt.Errorf("plezi-bench: s9 publisher: %w", err)
	}
	defer pub.Close()
	count := max(1, int(s.o.rate*s.o.duration.Seconds()))
	if err = s.window(ctx, func(t0 time.Time) { s.fanOut(ctx, pub, count) }); err != nil {
		return err
	}
	res, err := s.finish()
	if err != nil {
		return err
	}
	s.published(pub.Stats())
	// A publish whose answer failed may still have been delivered (an
	// overloaded Centrifugo answers EOF: its http.Server has a 10 s
	// WriteTimeout): every attempt is expected, and only missing
	// deliveries make the run partial.
	r.Rate, r.Sent, r.Expected = s.o.rate, r.Published+r.PublishErrs, (r.Published+r.PublishErrs)*res.Up
	if r.PublishErrs > 0 && r.Msgs < r.Expected && r.Status == "ok" {
		r.Status = fmt.Sprintf("partial: %d of %d publishes failed (last: %s), %d of %d deliveries",
			r.PublishErrs, r.Sent, r.PublishErr, r.Msgs, r.Expected)
	}
	s.perCPU()
	return nil
}

// fanOut publishes count times at -rate and waits until every delivery
// arrived (quiet for 200 ms after that) or deliveries stopped for 2 s
// after the last publish returned; it tracks the server's peak RSS.
func (s *session) fanOut(ctx context.Context, pub *bench.Publisher, count int) {
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx, s.o.rate, count) }()
	var last int64
	lastMove, lastPeak, published := time.Now(), time.Time{}, false
	for ctx.Err() == nil {
		p := sum(s.ws)
		s.pr.show("s9", p)
		if time.Since(lastPeak) >= 100*time.Millisecond {
			s.peak()
			lastPeak = time.Now()
		}
		if p.Msgs != last {
			last, lastMove = p.Msgs, time.Now()
		}
		if !published {
			select {
			case <-done:
				published, lastMove = true, time.Now()
			default:
			}
		}
		want := pub.Stats().OK * (p.Up - p.Closed)
		if published && (p.Msgs >= want && time.Since(lastMove) > 200*time.Millisecond || time.Since(lastMove) > 2*time.Second) {
			return
		}
		pause(ctx, 20*time.Millisecond)
	}
	<-done
}

// published copies the publisher's figures into the report.
func (s *session) published(st bench.PublishStats) {
	r := s.r
	r.Published, r.PublishErrs, r.PublishLate, r.PublishErr = st.OK, st.Failed, st.Late, st.LastErr
	var h bench.Histogram
	if h.MergeSparse(st.API) == nil {
		r.APIP50, r.APIP99 = float64(h.Quantile(.5))/1e3, float64(h.Quantile(.99))/1e3
	}
}

// rows prints the S9 lines of the table.
func (p *PubSubReport) rows(row func(k, f string, v ...any)) {
	if p.Proto == "" {
		return
	}
	row("push protocol", "%s, %.0f B RSS per subscribed idle connection", p.Proto, p.IdleRSSPerConn)
	if p.Published+p.PublishErrs > 0 {
		row("HTTP API", "%d publishes, %d failed, %d late; round trip p50 %.0f µs, p99 %.0f µs",
			p.Published, p.PublishErrs, p.PublishLate, p.APIP50, p.APIP99)
	}
}
