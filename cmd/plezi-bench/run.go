package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/plezigo/plezi/bench"
)

// run plays one scenario and returns its report.
func run(ctx context.Context, o options) (*Report, error) {
	r := &Report{Scenario: o.scenario, Label: o.label, Addr: o.addr, Conns: o.conns, Payload: o.payload, Status: "ok"}
	kind, err := scenarioKind(o.scenario)
	if err != nil {
		return nil, err
	}
	addrs := strings.Split(o.addr, ",")
	if len(addrs) > 1 && kind != bench.ScenarioUnicast {
		return nil, fmt.Errorf("plezi-bench: %s takes one -addr (several only for s4)", o.scenario)
	}
	for _, a := range addrs {
		if err = waitServer(ctx, a, o.serverWait); err != nil {
			return nil, err
		}
	}
	s := &session{o: o, r: r, kind: kind, addrs: addrs, pr: newPrinter(o),
		srv: sampler{pids: o.pids, core: o.serverCore, addr: addrs[0]}}
	s.before = s.srv.sample(ctx)
	if s.ws, err = s.spawnAll(); err != nil {
		quit(s.ws)
		return nil, err
	}
	defer quit(s.ws)
	return r, s.play(ctx)
}

// scenarioKind maps a scenario id to the engine scenario. s7 is s3 against
// a group of nodes on one port: the load generator does the same.
func scenarioKind(id string) (string, error) {
	switch id {
	case "s1", bench.ScenarioIdle:
		return bench.ScenarioIdle, nil
	case "s2", bench.ScenarioEcho:
		return bench.ScenarioEcho, nil
	case "s3", "s5", "s7", "s8", bench.ScenarioPush:
		return bench.ScenarioPush, nil
	case "s4", bench.ScenarioUnicast:
		return bench.ScenarioUnicast, nil
	case "s6", bench.ScenarioChurn:
		return bench.ScenarioChurn, nil
	case "s9", bench.ScenarioPubSub:
		return bench.ScenarioPubSub, nil
	}
	return "", fmt.Errorf("plezi-bench: unknown scenario %q", id)
}

// waitServer polls until addr accepts TCP connections.
func waitServer(ctx context.Context, addr string, max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if u := errors.Unwrap(err); u != nil {
				err = u // the *net.OpError repeats the address
			}
			return fmt.Errorf("plezi-bench: no server answers at %s (%w) after %v: start it (go run ./cmd/plezi -demo -debug listens on :3000), or pass its address with -addr",
				addr, err, max)
		}
		pause(ctx, 50*time.Millisecond) // the server is starting: nothing to wait on but time
	}
}

// session is the state of one run in the parent process.
type session struct {
	o      options
	r      *Report
	kind   string
	addrs  []string // the nodes (s4); one address otherwise
	ws     []*worker
	srv    sampler
	pr     *printer
	before serverSample
}

// configs splits the connections over worker processes.
func (s *session) configs() []bench.Config {
	o := s.o
	base := bench.Config{
		Scenario: s.kind, Addr: s.addrs[0], Raw: o.raw, Payload: o.payload, Loops: o.loops,
		Sources: sourceList(o.sources),
	}
	if len(s.addrs) > 1 {
		base.Addrs = s.addrs
	}
	if s.o.scenario == "s5" {
		base.SlowEvery = o.slowEvery
	}
	if s.kind == bench.ScenarioPush {
		base.Path = o.pushPath
		base.Rate, base.Count = o.rate, o.count
		if o.rate <= 0 {
			base.Rate = 1
		} else {
			base.Count = int(o.rate * o.duration.Seconds())
		}
		if o.scenario == "s8" {
			base.Rate, base.Count = o.stormRate(), 1<<30 // until halted
		}
	}
	if s.kind == bench.ScenarioPubSub {
		s.pubsubConfig(&base)
	}
	if s.kind == bench.ScenarioChurn {
		base.ChurnRate, base.Duration = o.churnRate, o.duration
		return []bench.Config{base}
	}
	var out []bench.Config
	for at := 0; at < o.conns; at += o.perProc {
		c := base
		c.Base, c.Conns = at, min(o.perProc, o.conns-at)
		c.Sender = at == 0 && s.kind == bench.ScenarioPush
		if s.kind == bench.ScenarioUnicast {
			c.Rate, c.Count = s.unicastShare(at, c.Conns)
		}
		out = append(out, c)
	}
	return out
}

// unicastRate is s4's messages per second over every connection.
func (o options) unicastRate() float64 {
	if o.rate <= 0 {
		return 1000
	}
	return o.rate
}

// unicastShare is the rate and message count of the worker holding
// connections [at, at+n): shares in proportion to connections, the counts
// adding up to exactly rate × duration.
func (s *session) unicastShare(at, n int) (float64, int) {
	rate := s.o.unicastRate()
	total := int(rate * s.o.duration.Seconds())
	count := total*(at+n)/s.o.conns - total*at/s.o.conns
	return rate * float64(n) / float64(s.o.conns), count
}

func sourceList(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, "127.0.0."+strconv.Itoa(2+i))
	}
	return out
}

func (s *session) spawnAll() ([]*worker, error) {
	var ws []*worker
	for _, cfg := range s.configs() {
		w, err := spawn(cfg)
		if err != nil {
			return ws, err
		}
		ws = append(ws, w)
	}
	s.r.Procs = len(ws)
	return ws, nil
}

// play runs the phases of the scenario.
func (s *session) play(ctx context.Context) error {
	if s.kind != bench.ScenarioChurn {
		s.waitUp(ctx)
	}
	var err error
	switch s.kind {
	case bench.ScenarioIdle:
		err = s.idle(ctx)
	case bench.ScenarioEcho:
		err = s.echo(ctx)
	case bench.ScenarioPush:
		if s.o.scenario == "s8" {
			err = s.storm(ctx)
			break
		}
		err = s.push(ctx)
	case bench.ScenarioChurn:
		err = s.churn(ctx)
	case bench.ScenarioUnicast:
		err = s.unicast(ctx)
	case bench.ScenarioPubSub:
		err = s.pubsub(ctx)
	}
	s.pr.done()
	return err
}

// waitUp polls until every connection opened or failed.
func (s *session) waitUp(ctx context.Context) {
	deadline := time.Now().Add(s.o.connectWait)
	for ctx.Err() == nil {
		p := sum(s.ws)
		s.pr.show("connect", p)
		if p.Settled(s.o.conns) {
			return
		}
		if time.Now().After(deadline) {
			s.r.Status = fmt.Sprintf("partial: %d of %d connections opened in %v", p.Up, s.o.conns, s.o.connectWait)
			return
		}
		pause(ctx, 50*time.Millisecond)
	}
}

// pause waits d or until ctx ends: the parent polls worker progress, which
// arrives on its own schedule.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// finish collects the workers' results into the report.
func (s *session) finish() (*bench.Result, error) {
	res, err := results(s.ws)
	if err != nil {
		return nil, err
	}
	s.r.counts(&res)
	h, err := res.Histogram()
	if err != nil {
		return nil, err
	}
	s.r.latency(h)
	return &res, nil
}
