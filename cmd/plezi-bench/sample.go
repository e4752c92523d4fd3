package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/plezigo/plezi/bench"
)

// pidList is the -pid flag: server process ids, comma-separated.
type pidList []int

func (p *pidList) String() string {
	var s []string
	for _, pid := range *p {
		s = append(s, strconv.Itoa(pid))
	}
	return strings.Join(s, ",")
}

// Set parses "1234" or "1234,1235"; 0 adds nothing.
func (p *pidList) Set(v string) error {
	*p = (*p)[:0]
	for _, f := range strings.Split(v, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid < 0 {
			return fmt.Errorf("bad process id %q", f)
		}
		if pid > 0 {
			*p = append(*p, pid)
		}
	}
	return nil
}

// sampler reads the server's process figures and /debug/heap.
type sampler struct {
	pids []int
	core int
	addr string // where /debug/heap is asked; "" = nowhere
}

// serverSample is one reading; fields stay zero when unavailable.
type serverSample struct {
	proc   bench.ProcSample // summed over the server processes
	heap   bench.Heap
	heapOK bool
	sock   bench.Sockstat
	core   float64 // busy seconds of the server's CPU
}

func (s sampler) sample(ctx context.Context) serverSample {
	out := serverSample{proc: s.proc()}
	if s.addr != "" {
		h, err := bench.FetchHeap(ctx, s.addr)
		out.heap, out.heapOK = h, err == nil
	}
	out.sock, _ = bench.ReadSockstat()
	if s.core >= 0 {
		out.core, _ = bench.CoreBusy(s.core)
	}
	return out
}

// proc sums the /proc figures of the server processes that answer.
func (s sampler) proc() bench.ProcSample {
	var sum bench.ProcSample
	for _, pid := range s.pids {
		p, err := bench.ReadProc(pid)
		if err != nil {
			continue
		}
		sum.CPU += p.CPU
		sum.RSS += p.RSS
		sum.FDs += p.FDs
		sum.CtxSwitch += p.CtxSwitch
	}
	return sum
}

// clusterSample is one reading of the nodes' cluster counters (summed) and
// of their Redis.
type clusterSample struct {
	stats   bench.Stats
	statsOK bool // every node answered /debug/stats
	redis   bench.RedisInfo
	redisOK bool
}

// clusterSample reads every node's /debug/stats and, with -redis, Redis
// INFO. A node without the endpoint (404, or cmd/plezi without -debug)
// leaves statsOK false: its figures are reported as -1. A Redis that does
// not answer is an error: the cross-node scenario needs it.
func (s *session) clusterSample(ctx context.Context) (clusterSample, error) {
	c := clusterSample{statsOK: true}
	for _, a := range s.addrs {
		st, err := bench.FetchStats(ctx, a)
		if err != nil {
			if !errors.Is(err, bench.ErrNoStats) {
				fmt.Fprintf(os.Stderr, "plezi-bench: %s/debug/stats: %v\n", a, err)
			}
			c.statsOK = false
			continue
		}
		c.stats.ClusterEnvelopes += st.ClusterEnvelopes
		c.stats.ClusterRoundTrips += st.ClusterRoundTrips
		c.stats.Delivered += st.Delivered
		c.stats.UnicastFailed += st.UnicastFailed
		c.stats.PublishErrors += st.PublishErrors
	}
	if s.o.redis == "" {
		return c, nil
	}
	ri, err := bench.ReadRedisInfo(ctx, s.o.redis)
	if err != nil {
		return c, fmt.Errorf("plezi-bench: Redis at %s does not answer: %w", s.o.redis, err)
	}
	c.redis, c.redisOK = ri, true
	return c, nil
}
