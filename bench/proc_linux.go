package bench

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (fixed at 100 on
// Linux for every architecture this runs on).
const clockTicks = 100

// ProcSample is a reading of a process from /proc.
type ProcSample struct {
	CPU       float64 // utime+stime, seconds
	RSS       int64   // resident set, bytes
	FDs       int     // open descriptors
	CtxSwitch int64   // voluntary + involuntary context switches
}

// ReadProc samples process pid. Safe from any goroutine; it allocates, so
// call it outside hot paths.
func ReadProc(pid int) (ProcSample, error) {
	var s ProcSample
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	if len(f) < 13 {
		return s, ErrProtocol
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.CPU = float64(ut+st) / clockTicks
	if err = readStatus(pid, &s); err != nil {
		return s, err
	}
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err == nil {
		s.FDs = len(ents)
	}
	return s, nil
}

// ReadRSS reads the resident set of process pid from /proc/pid/statm: one
// small read, cheap enough to poll while a run is measured (ReadProc lists
// every descriptor and thread, which costs milliseconds on a server holding
// 10k sockets and would steal the load generator's core).
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, ErrProtocol
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, ErrProtocol
	}
	return pages * int64(os.Getpagesize()), nil
}

// readStatus reads VmRSS from the process and sums the context switches of
// every thread.
func readStatus(pid int, s *ProcSample) error {
	dir := "/proc/" + strconv.Itoa(pid)
	if err := statusFile(dir+"/status", s, true); err != nil {
		return err
	}
	tasks, _ := os.ReadDir(dir + "/task")
	for _, t := range tasks {
		_ = statusFile(dir+"/task/"+t.Name()+"/status", s, false)
	}
	return nil
}

func statusFile(path string, s *ProcSample, rss bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
		switch k {
		case "VmRSS":
			if rss {
				s.RSS = n << 10
			}
		case "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches":
			if !rss {
				s.CtxSwitch += n
			}
		}
	}
	return sc.Err()
}

// CoreBusy returns the busy time of CPU n in seconds since boot from
// /proc/stat: every state but idle, iowait and steal, so softirq work the
// kernel does for a process (loopback TCP, mostly) counts too.
func CoreBusy(n int) (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	name := "cpu" + strconv.Itoa(n)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != name {
			continue
		}
		var busy int64
		for i, v := range f[1:9] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i != 3 && i != 4 && i != 7 { // idle, iowait, steal
				busy += n
			}
		}
		return float64(busy) / clockTicks, nil
	}
	return 0, ErrProtocol
}

// Sockstat is the TCP line of /proc/net/sockstat.
type Sockstat struct {
	InUse    int64 // TCP sockets in use
	TimeWait int64
	MemPages int64 // pages of socket buffer memory
}

// ReadSockstat reads /proc/net/sockstat. Safe from any goroutine.
func ReadSockstat() (Sockstat, error) {
	var s Sockstat
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			n, _ := strconv.ParseInt(f[i+1], 10, 64)
			switch f[i] {
			case "inuse":
				s.InUse = n
			case "tw":
				s.TimeWait = n
			case "mem":
				s.MemPages = n
			}
		}
	}
	return s, nil
}

// Heap is the server's GET /debug/heap answer.
type Heap struct {
	HeapInuse  int64 `json:"heap_inuse"`
	HeapAlloc  int64 `json:"heap_alloc"`
	NumGC      int64 `json:"num_gc"`
	Goroutines int64 `json:"goroutines"`
}

// FetchHeap asks the server at addr for its /debug/heap (3 s timeout, one
// connection closed after the answer). Safe from any goroutine.
func FetchHeap(ctx context.Context, addr string) (Heap, error) {
	var h Heap
	return h, getJSON(ctx, addr, "/debug/heap", &h)
}
