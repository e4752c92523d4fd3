package main

import (
	"context"

	"github.com/plezigo/plezi/bench"
)

// sampler reads the server's process figures and /debug/heap.
type sampler struct {
	pid, core int
	addr      string
}

// serverSample is one reading; fields stay zero when unavailable.
type serverSample struct {
	proc   bench.ProcSample
	heap   bench.Heap
	heapOK bool
	sock   bench.Sockstat
	core   float64 // busy seconds of the server's CPU
}

func (s sampler) sample(ctx context.Context) serverSample {
	var out serverSample
	if s.pid > 0 {
		out.proc, _ = bench.ReadProc(s.pid)
	}
	h, err := bench.FetchHeap(ctx, s.addr)
	out.heap, out.heapOK = h, err == nil
	out.sock, _ = bench.ReadSockstat()
	if s.core >= 0 {
		out.core, _ = bench.CoreBusy(s.core)
	}
	return out
}
