package main

import (
	"context"
	"time"

	"github.com/plezigo/plezi/bench"
)

const ackWait = 30 * time.Second

// idle (S1): connections open, measure the server's memory once it settles.
func (s *session) idle(ctx context.Context) error {
	after := s.settle(ctx)
	s.memory(after)
	_, err := s.finish()
	return err
}

// settle polls the server's RSS until it changes by less than 1% for a
// second, at most o.settle.
func (s *session) settle(ctx context.Context) serverSample {
	deadline := time.Now().Add(s.o.settle)
	prev, stable := s.srv.sample(ctx), 0
	for stable < 4 && time.Now().Before(deadline) && ctx.Err() == nil {
		pause(ctx, 250*time.Millisecond)
		cur := s.srv.sample(ctx)
		if d := cur.proc.RSS - prev.proc.RSS; d*100 <= cur.proc.RSS && -d*100 <= cur.proc.RSS {
			stable++
		} else {
			stable = 0
		}
		prev = cur
		s.pr.show("settle", sum(s.ws))
	}
	return s.srv.sample(ctx)
}

// memory fills the memory fields: deltas from before the first connection.
func (s *session) memory(after serverSample) {
	r, b, up := s.r, s.before, float64(max(sum(s.ws).Up, 1))
	r.RSSBefore, r.RSSAfter, r.RSSPeak = b.proc.RSS, after.proc.RSS, max(after.proc.RSS, r.RSSPeak)
	r.RSSPerConn = float64(after.proc.RSS-b.proc.RSS) / up
	r.HeapBefore, r.HeapAfter = b.heap.HeapInuse, after.heap.HeapInuse
	if after.heapOK && b.heapOK {
		r.HeapPerConn = float64(after.heap.HeapInuse-b.heap.HeapInuse) / up
	}
	r.GoroutinesBefore, r.GoroutinesAfter = b.heap.Goroutines, after.heap.Goroutines
	r.FDsBefore, r.FDsAfter = b.proc.FDs, after.proc.FDs
	r.SockInuse = after.sock.InUse - b.sock.InUse
	r.SockPages = after.sock.MemPages - b.sock.MemPages
	if r.SockInuse > 0 {
		r.KernPerSock = float64(r.SockPages*4096) / float64(r.SockInuse)
	}
}

// window runs f between "go" and "stop", sampling server CPU around it.
func (s *session) window(ctx context.Context, f func(t0 time.Time)) error {
	c0, l0 := s.srv.sample(ctx), s.loadCPU()
	t0 := time.Now()
	// Worker 0 holds the push sender: every other worker counts first.
	if err := command(s.ws[1:], bench.CmdGo, ackWait); err != nil {
		return err
	}
	if err := command(s.ws[:1], bench.CmdGo, ackWait); err != nil {
		return err
	}
	f(t0)
	if err := command(s.ws, bench.CmdStop, ackWait); err != nil {
		return err
	}
	s.r.Window = time.Since(t0).Seconds()
	c1 := s.srv.sample(ctx)
	s.r.LoadCPU = s.loadCPU() - l0
	s.r.ServerCPU = c1.proc.CPU - c0.proc.CPU
	s.r.CtxSwitches = c1.proc.CtxSwitch - c0.proc.CtxSwitch
	s.r.CoreCPU = c1.core - c0.core
	s.memory(c1)
	return nil
}

// perCPU fills the throughput and CPU-per-message figures.
func (s *session) perCPU() {
	r := s.r
	if r.Window > 0 {
		r.MsgPerSec = float64(r.Msgs) / r.Window
	}
	if r.ServerCPU > 0 && r.Msgs > 0 {
		r.MsgsPerCPUSec = float64(r.Msgs) / r.ServerCPU
		r.CPUPerMsgUs = r.ServerCPU * 1e6 / float64(r.Msgs)
	}
	if r.CoreCPU > 0 && r.Msgs > 0 {
		r.CoreUsPerMsg = r.CoreCPU * 1e6 / float64(r.Msgs)
	}
}

// echo (S2): every connection keeps one message in flight for o.duration.
func (s *session) echo(ctx context.Context) error {
	err := s.window(ctx, func(t0 time.Time) {
		for time.Since(t0) < s.o.duration && ctx.Err() == nil {
			s.pr.show("echo", sum(s.ws))
			pause(ctx, 50*time.Millisecond)
		}
	})
	if err != nil {
		return err
	}
	if _, err = s.finish(); err != nil {
		return err
	}
	s.perCPU()
	return nil
}

// push (S3, S5): one sender, every connection receives.
func (s *session) push(ctx context.Context) error {
	cfg := s.configs()[0]
	sendFor := time.Duration(float64(cfg.Count)/cfg.Rate*float64(time.Second)) + 60*time.Second
	err := s.window(ctx, func(t0 time.Time) { s.deliver(ctx, t0, cfg.Count, sendFor) })
	if err != nil {
		return err
	}
	if s.o.scenario == "s5" {
		if err = command(s.ws, bench.CmdDrain, ackWait); err != nil {
			return err
		}
	}
	res, err := s.finish()
	if err != nil {
		return err
	}
	s.r.Rate = cfg.Rate
	s.r.Expected = res.Sent * (res.Up - res.Slow)
	s.perCPU()
	return nil
}

// deliver waits until every message was sent and delivered, or delivery
// stopped progressing for 2 s; it tracks the server's peak RSS meanwhile
// (every 100 ms, from /proc/pid/statm only: this loop shares the load
// generator's core).
func (s *session) deliver(ctx context.Context, t0 time.Time, count int, sendFor time.Duration) {
	slow := int64(slowCount(s.o))
	var last int64
	lastMove, lastPeak := time.Now(), time.Time{}
	for ctx.Err() == nil {
		p := sum(s.ws)
		s.pr.show(s.o.scenario, p)
		if time.Since(lastPeak) >= 100*time.Millisecond {
			s.peak()
			lastPeak = time.Now()
		}
		if p.Msgs != last {
			last, lastMove = p.Msgs, time.Now()
		}
		sentAll := p.Sent >= int64(count) || time.Since(t0) > sendFor
		want := p.Sent * (p.Up - slow - p.Closed) // every connection gets every message
		if s.kind == bench.ScenarioUnicast {
			want = p.Sent // one recipient each
		}
		if sentAll && (p.Msgs >= want && time.Since(lastMove) > 200*time.Millisecond || time.Since(lastMove) > 2*time.Second) {
			return
		}
		pause(ctx, 20*time.Millisecond)
	}
}

func (s *session) peak() {
	var rss int64
	for _, pid := range s.o.pids {
		if n, err := bench.ReadRSS(pid); err == nil {
			rss += n
		}
	}
	if rss > s.r.RSSPeak {
		s.r.RSSPeak = rss
	}
}

// slowCount is how many connections the engine makes slow in S5.
func slowCount(o options) int {
	if o.scenario != "s5" || o.slowEvery <= 0 {
		return 0
	}
	n := 0
	for i := 1; i < o.conns; i++ {
		if i%o.slowEvery == o.slowEvery/2 {
			n++
		}
	}
	return n
}

// unicast (S4): every connection sends to its partner on the other node,
// at a fixed rate over all of them; the nodes' cluster counters and Redis
// are read before and after the window.
func (s *session) unicast(ctx context.Context) error {
	count := 0
	for _, c := range s.configs() {
		count += c.Count
	}
	c0, err := s.clusterSample(ctx)
	if err != nil {
		return err
	}
	sendFor := s.o.duration + 60*time.Second
	if err = s.window(ctx, func(t0 time.Time) { s.deliver(ctx, t0, count, sendFor) }); err != nil {
		return err
	}
	c1, err := s.clusterSample(ctx)
	if err != nil {
		return err
	}
	res, err := s.finish()
	if err != nil {
		return err
	}
	r := s.r
	r.Nodes, r.Rate, r.Expected, r.Lost = len(s.addrs), s.o.unicastRate(), res.Sent, res.Sent-res.Msgs
	if res.SendSpan > 0 {
		r.SendRate = float64(res.Sent) / (float64(res.SendSpan) / 1e9)
	}
	s.perCPU()
	r.cluster(c0, c1)
	return nil
}

// churn (S6): connects at a fixed rate, then checks the server let go of
// every socket and goroutine.
func (s *session) churn(ctx context.Context) error {
	s.before = s.srv.sample(ctx) // the workers are up: compare against now
	err := s.window(ctx, func(t0 time.Time) {
		limit := s.o.duration + 20*time.Second
		for ctx.Err() == nil && time.Since(t0) < limit {
			p := sum(s.ws)
			s.pr.show("churn", p)
			if p.Done {
				return
			}
			pause(ctx, 20*time.Millisecond)
		}
	})
	if err != nil {
		return err
	}
	after := s.released(ctx, s.before.proc.FDs)
	res, err := s.finish()
	if err != nil {
		return err
	}
	s.memory(after)
	if res.ChurnSpan > 0 {
		s.r.ChurnRate = float64(res.FullDone+res.HalfDone+res.Failed) / (float64(res.ChurnSpan) / 1e9)
	}
	s.r.Conns = int(res.FullDone + res.HalfDone + res.Failed)
	return nil
}

// released polls the server until it holds at most fds descriptors (the
// count before the connections it waits to see go), at most 10 s, and
// returns the last sample.
func (s *session) released(ctx context.Context, fds int) serverSample {
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur := s.srv.sample(ctx)
		if len(s.o.pids) == 0 || cur.proc.FDs <= fds || time.Now().After(deadline) {
			return cur
		}
		pause(ctx, 100*time.Millisecond)
	}
}

// loadCPU sums the CPU seconds of the worker processes: near the window's
// length per core means the load generator itself was saturated.
func (s *session) loadCPU() float64 {
	var cpu float64
	for _, w := range s.ws {
		if p, err := bench.ReadProc(w.cmd.Process.Pid); err == nil {
			cpu += p.CPU
		}
	}
	return cpu
}
