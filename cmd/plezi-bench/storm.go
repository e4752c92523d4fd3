package main

// S8, a connection storm during broadcasts: -conns subscribers on the push
// route; -storm new connections (on -storm-path) opened at once, first
// with no broadcast going (the baseline), then while one subscriber
// broadcasts -rate times a second to the push route. It reports the time
// from the storm's start until its last connection was upgraded, both
// ways, and the subscribers' delivery latency before the storm (S3's
// figure, same run) and during it.

import (
	"context"
	"fmt"
	"time"

	"github.com/plezigo/plezi/bench"
)

// stormRate is S8's broadcasts per second.
func (o options) stormRate() float64 {
	if o.rate <= 0 {
		return 10
	}
	return o.rate
}

// stormConfigs splits the storm over worker processes, each held until
// CmdConnect. A storm connection never starts a window: it reads and
// drops whatever it is sent.
func (s *session) stormConfigs() []bench.Config {
	o := s.o
	base := bench.Config{Scenario: bench.ScenarioIdle, Addr: s.addrs[0], Path: o.stormPath, Raw: o.raw,
		Payload: o.payload, Loops: o.loops, Sources: sourceList(o.sources), Hold: true,
		MaxPending: o.stormPending, HandshakeTimeout: o.connectWait}
	var out []bench.Config
	for at := 0; at < o.storm; at += o.perProc {
		c := base
		c.Base, c.Conns = o.conns+at, min(o.perProc, o.storm-at)
		out = append(out, c)
	}
	return out
}

// spawnStorm starts the storm's worker processes and waits until each has
// its engine up, so that process start-up is not in the storm's time.
func (s *session) spawnStorm() ([]*worker, error) {
	var ws []*worker
	for _, cfg := range s.stormConfigs() {
		w, err := spawn(cfg)
		if err != nil {
			quit(ws)
			return nil, err
		}
		ws = append(ws, w)
	}
	if err := waitReported(ws, ackWait); err != nil {
		quit(ws)
		return nil, err
	}
	return ws, nil
}

// stormUp opens ws's connections at once and waits until each upgraded or
// failed, at most -connect-timeout. It returns the seconds from the
// command to the last upgrade (0 when none was) and the storm's result.
func (s *session) stormUp(ctx context.Context, ws []*worker, phase string) (float64, bench.Result, error) {
	t0 := bench.Now()
	if err := command(ws, bench.CmdConnect, ackWait); err != nil {
		return 0, bench.Result{}, err
	}
	deadline := time.Now().Add(s.o.connectWait)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		p := sum(ws)
		s.pr.show(phase, p)
		if p.Settled(s.o.storm) {
			break
		}
		pause(ctx, 20*time.Millisecond)
	}
	res, err := results(ws)
	if err != nil {
		return 0, res, err
	}
	if res.Up < int64(s.o.storm) && s.r.Status == "ok" {
		s.r.Status = fmt.Sprintf("partial: %s: %d of %d storm connections upgraded (%d failed: connect %d, handshake %d, timeouts %d; the wait is -connect-timeout %v)",
			phase, res.Up, s.o.storm, res.Failed, res.ConnectErrs, res.HandshakeErrs, res.Timeouts, s.o.connectWait)
	}
	if res.LastUp <= t0 {
		return 0, res, nil
	}
	return float64(res.LastUp-t0) / 1e9, res, nil
}

// storm (S8) plays the baseline storm, lets the server close it, then the
// broadcast window: -duration of broadcasts alone, the storm, the end of
// the deliveries.
func (s *session) storm(ctx context.Context) error {
	quiet, err := s.spawnStorm()
	if err != nil {
		return err
	}
	before := s.srv.sample(ctx)
	quietS, qres, err := s.stormUp(ctx, quiet, "storm, no broadcasts")
	quit(quiet) // resets every storm connection
	if err != nil {
		return err
	}
	s.released(ctx, before.proc.FDs)
	busy, err := s.spawnStorm()
	if err != nil {
		return err
	}
	defer quit(busy)
	var busyS float64
	var bres, calm bench.Result
	var ferr error
	err = s.window(ctx, func(t0 time.Time) {
		for time.Since(t0) < s.o.duration && ctx.Err() == nil {
			s.pr.show("broadcasts", sum(s.ws))
			pause(ctx, 50*time.Millisecond)
		}
		if calm, ferr = collect(s.ws, bench.CmdCut); ferr != nil {
			return
		}
		if busyS, bres, ferr = s.stormUp(ctx, busy, "storm, broadcasting"); ferr != nil {
			return
		}
		if ferr = command(s.ws, bench.CmdHalt, ackWait); ferr == nil {
			s.deliver(ctx, t0, 0, 0) // every broadcast sent has arrived, or delivery stopped
		}
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	return s.stormReport(quietS, busyS, &qres, &bres, &calm)
}

// stormReport fills S8's figures: the latency fields are the storm's
// (the histogram since the cut), Calm* the broadcasts' before it.
func (s *session) stormReport(quietS, busyS float64, qres, bres, calm *bench.Result) error {
	res, err := s.finish()
	if err != nil {
		return err
	}
	h, err := calm.Histogram()
	if err != nil {
		return err
	}
	r := s.r
	r.Rate, r.Expected = s.o.stormRate(), res.Sent*res.Up
	s.perCPU()
	r.Storm, r.StormPath = s.o.storm, s.o.stormPath
	r.StormQuietS, r.StormBusyS = quietS, busyS
	r.StormQuietUp, r.StormBusyUp, r.StormFailed = qres.Up, bres.Up, qres.Failed+bres.Failed
	if quietS > 0 {
		r.StormRatio = busyS / quietS
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	r.CalmN, r.CalmP50, r.CalmP99 = h.N, us(h.Quantile(.5)), us(h.Quantile(.99))
	if r.CalmP99 > 0 {
		r.StormP99Ratio = r.LatP99 / r.CalmP99
	}
	return nil
}
