package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/plezigo/plezi/bench"
)

// Report is the outcome of one run; -json prints it as is.
type Report struct {
	Scenario string  `json:"scenario"`
	Label    string  `json:"label"`
	Status   string  `json:"status"` // "ok" or "partial: ..."
	Addr     string  `json:"addr"`
	Conns    int     `json:"conns"`
	Payload  int     `json:"payload"`
	Rate     float64 `json:"rate,omitempty"`
	Procs    int     `json:"procs"`
	Window   float64 `json:"window_s"` // measured window, seconds

	Up     int64 `json:"up"`
	Failed int64 `json:"failed"`
	Closed int64 `json:"closed"`

	Msgs      int64   `json:"msgs"`
	Sent      int64   `json:"sent"`
	Expected  int64   `json:"expected,omitempty"`
	MsgPerSec float64 `json:"msg_per_sec"`

	LatN    uint64  `json:"lat_n"`
	LatP50  float64 `json:"lat_p50_us"`
	LatP99  float64 `json:"lat_p99_us"`
	LatP999 float64 `json:"lat_p999_us"`
	LatMax  float64 `json:"lat_max_us"`
	LatMean float64 `json:"lat_mean_us"`

	ServerCPU     float64 `json:"server_cpu_s"`
	MsgsPerCPUSec float64 `json:"msgs_per_cpu_s"`
	CPUPerMsgUs   float64 `json:"cpu_us_per_msg"`
	CtxSwitches   int64   `json:"ctx_switches"`
	LoadCPU       float64 `json:"load_cpu_s"`                // the worker processes' CPU over the window
	CoreCPU       float64 `json:"core_cpu_s,omitempty"`      // busy time of the server's core, softirq included
	CoreUsPerMsg  float64 `json:"core_us_per_msg,omitempty"` // CoreCPU per message

	RSSBefore   int64   `json:"rss_before"`
	RSSAfter    int64   `json:"rss_after"`
	RSSPeak     int64   `json:"rss_peak"`
	RSSPerConn  float64 `json:"rss_per_conn"`
	HeapBefore  int64   `json:"heap_before"`
	HeapAfter   int64   `json:"heap_after"`
	HeapPerConn float64 `json:"heap_per_conn"`
	SockPages   int64   `json:"sock_mem_pages_delta"`
	SockInuse   int64   `json:"sock_inuse_delta"`
	KernPerSock float64 `json:"kernel_bytes_per_socket"`

	GoroutinesBefore int64 `json:"goroutines_before"`
	GoroutinesAfter  int64 `json:"goroutines_after"`
	FDsBefore        int   `json:"fds_before"`
	FDsAfter         int   `json:"fds_after"`

	// S4: cross-node unicast. The per-message figures are per delivered
	// message; -1 means not measured (a node without /debug/stats, or no
	// -redis).
	Nodes            int     `json:"nodes,omitempty"`
	Lost             int64   `json:"lost,omitempty"`
	SendRate         float64 `json:"send_rate,omitempty"` // messages sent per second while sending
	RoundTripsPerMsg float64 `json:"round_trips_per_msg,omitempty"`
	EnvelopesPerMsg  float64 `json:"envelopes_per_msg,omitempty"`
	PublishPerMsg    float64 `json:"publish_per_msg,omitempty"` // Redis PUBLISH commands
	RedisCPU         float64 `json:"redis_cpu_s,omitempty"`
	RedisUsPerMsg    float64 `json:"redis_us_per_msg,omitempty"`

	// S8: a storm of connections opened at once, without broadcasts and
	// during them. The latency fields are the subscribers' during the
	// storm; Calm* theirs in the broadcasts before it (S3's figure).
	Storm         int     `json:"storm,omitempty"`      // connections per storm
	StormPath     string  `json:"storm_path,omitempty"` // the route they open
	StormQuietS   float64 `json:"storm_quiet_s,omitempty"`
	StormBusyS    float64 `json:"storm_busy_s,omitempty"`
	StormRatio    float64 `json:"storm_ratio,omitempty"` // busy / quiet
	StormQuietUp  int64   `json:"storm_quiet_up,omitempty"`
	StormBusyUp   int64   `json:"storm_busy_up,omitempty"`
	StormFailed   int64   `json:"storm_failed,omitempty"` // over both storms
	CalmN         uint64  `json:"calm_n,omitempty"`
	CalmP50       float64 `json:"calm_p50_us,omitempty"`
	CalmP99       float64 `json:"calm_p99_us,omitempty"`
	StormP99Ratio float64 `json:"storm_p99_ratio,omitempty"` // LatP99 / CalmP99

	Slow          int64   `json:"slow,omitempty"`
	SlowClosed    int64   `json:"slow_closed,omitempty"`
	FullDone      int64   `json:"full_done,omitempty"`
	HalfDone      int64   `json:"half_done,omitempty"`
	ChurnRate     float64 `json:"churn_rate,omitempty"`
	Stalls        int64   `json:"stalls,omitempty"`
	ConnectErrs   int64   `json:"connect_errs"`
	HandshakeErrs int64   `json:"handshake_errs"`
	Timeouts      int64   `json:"timeouts"`

	PubSubReport // S9
}

// latency fills the latency fields from h (nanoseconds in, µs out).
func (r *Report) latency(h *bench.Histogram) {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	r.LatN = h.N
	r.LatP50, r.LatP99, r.LatP999 = us(h.Quantile(.5)), us(h.Quantile(.99)), us(h.Quantile(.999))
	r.LatMax, r.LatMean = us(h.Max), h.Mean()/1e3
}

// cluster fills the S4 figures from readings before (a) and after (b).
func (r *Report) cluster(a, b clusterSample) {
	per := func(d int64, ok bool) float64 {
		if !ok || r.Msgs == 0 {
			return -1
		}
		return float64(d) / float64(r.Msgs)
	}
	ok := a.statsOK && b.statsOK
	r.RoundTripsPerMsg = per(b.stats.ClusterRoundTrips-a.stats.ClusterRoundTrips, ok)
	r.EnvelopesPerMsg = per(b.stats.ClusterEnvelopes-a.stats.ClusterEnvelopes, ok)
	r.PublishPerMsg = per(b.redis.Publish-a.redis.Publish, a.redisOK && b.redisOK)
	if a.redisOK && b.redisOK {
		r.RedisCPU = b.redis.CPU - a.redis.CPU
		if r.Msgs > 0 {
			r.RedisUsPerMsg = r.RedisCPU * 1e6 / float64(r.Msgs)
		}
	}
}

// counts copies the workers' merged figures.
func (r *Report) counts(res *bench.Result) {
	r.Up, r.Failed, r.Closed, r.Msgs, r.Sent = res.Up, res.Failed, res.Closed, res.Msgs, res.Sent
	r.Slow, r.SlowClosed = res.Slow, res.SlowClosed
	r.FullDone, r.HalfDone, r.Stalls = res.FullDone, res.HalfDone, res.Stalls
	r.ConnectErrs, r.HandshakeErrs, r.Timeouts = res.ConnectErrs, res.HandshakeErrs, res.Timeouts
}

// table prints the report for people.
func (r *Report) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, f string, v ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, v...)...) }
	row("scenario", "%s  (%s)", r.Scenario, r.Label)
	row("status", "%s", r.Status)
	if r.Status != "ok" && r.Up == 0 {
		tw.Flush()
		return
	}
	row("connections", "%d up, %d failed, %d closed by server (%d procs)", r.Up, r.Failed, r.Closed, r.Procs)
	row("window", "%.2f s", r.Window)
	if r.Msgs > 0 || r.Sent > 0 {
		row("messages", "%d received, %d sent, %.0f msg/s", r.Msgs, r.Sent, r.MsgPerSec)
	}
	if r.Nodes > 0 {
		row("unicast", "%d nodes, %d sent at %.0f msg/s (asked %g), %d delivered, %d lost",
			r.Nodes, r.Sent, r.SendRate, r.Rate, r.Msgs, r.Lost)
		row("per message", "%.3f broker round trips, %.3f envelopes, %.3f Redis PUBLISH (-1: not measured)",
			r.RoundTripsPerMsg, r.EnvelopesPerMsg, r.PublishPerMsg)
		if r.RedisCPU > 0 {
			row("redis", "%.3f s CPU, %.2f µs/msg", r.RedisCPU, r.RedisUsPerMsg)
		}
	}
	if r.Storm > 0 {
		row("storm", "%d connections on %s: all up in %.2f s without broadcasts (%d up), %.2f s during them (%d up): %.2f×; %d failed",
			r.Storm, r.StormPath, r.StormQuietS, r.StormQuietUp, r.StormBusyS, r.StormBusyUp, r.StormRatio, r.StormFailed)
		row("before the storm µs", "p50 %.1f  p99 %.1f  (n=%d); p99 during the storm %.2f× this", r.CalmP50, r.CalmP99, r.CalmN, r.StormP99Ratio)
	}
	if r.LatN > 0 {
		label := "latency µs"
		if r.Storm > 0 {
			label = "during the storm µs"
		}
		row(label, "p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (n=%d)", r.LatP50, r.LatP99, r.LatP999, r.LatMax, r.LatN)
	}
	if r.ServerCPU > 0 {
		row("server CPU", "%.3f s, %.0f msgs/CPU-s, %.3f µs/msg, %d ctx switches", r.ServerCPU, r.MsgsPerCPUSec, r.CPUPerMsgUs, r.CtxSwitches)
	}
	if r.LoadCPU > 0 {
		row("load generator", "%.3f s CPU over a %.2f s window (%.0f%% of one core)", r.LoadCPU, r.Window, 100*r.LoadCPU/r.Window)
	}
	if r.CoreCPU > 0 {
		row("server core", "%.3f s busy (softirq included), %.3f µs/msg", r.CoreCPU, r.CoreUsPerMsg)
	}
	if r.RSSAfter > 0 {
		row("server RSS", "%s → %s (peak %s), %.0f B/conn", mib(r.RSSBefore), mib(r.RSSAfter), mib(r.RSSPeak), r.RSSPerConn)
	}
	if r.HeapAfter > 0 {
		row("server heap", "%s → %s, %.0f B/conn; goroutines %d → %d", mib(r.HeapBefore), mib(r.HeapAfter), r.HeapPerConn, r.GoroutinesBefore, r.GoroutinesAfter)
	}
	if r.SockInuse != 0 {
		row("kernel", "%+d sockets, %+d pages, %.0f B/socket", r.SockInuse, r.SockPages, r.KernPerSock)
	}
	if r.FDsBefore > 0 {
		row("server fds", "%d → %d", r.FDsBefore, r.FDsAfter)
	}
	if r.Slow > 0 {
		row("slow consumers", "%d, %d closed by the server", r.Slow, r.SlowClosed)
	}
	if r.FullDone+r.HalfDone > 0 {
		row("churn", "%d full + %d half handshakes, %.0f conn/s, %d stalls (>1 s)", r.FullDone, r.HalfDone, r.ChurnRate, r.Stalls)
	}
	r.PubSubReport.rows(row)
	row("errors", "connect %d, handshake %d, timeouts %d", r.ConnectErrs, r.HandshakeErrs, r.Timeouts)
	tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
