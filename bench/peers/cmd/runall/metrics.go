package main

// metric is one column of a result table.
type metric struct {
	name   string
	format string // fmt verb for the median and range
	f      func(report) float64
}

func field(k string) func(report) float64 { return func(r report) float64 { return r.num(k) } }

// columns lists the metrics reported for each scenario.
var columns = map[string][]metric{
	"s1": {
		{"RSS per conn (B)", "%.0f", field("rss_per_conn")},
		{"Go heap per conn (B)", "%.0f", field("heap_per_conn")},
		{"kernel per socket (B)", "%.0f", field("kernel_bytes_per_socket")},
		{"connections up", "%.0f", field("up")},
	},
	"s2": {
		{"msg/s", "%.0f", field("msg_per_sec")},
		{"msgs per server CPU-s", "%.0f", field("msgs_per_cpu_s")},
		{"p50 µs", "%.0f", field("lat_p50_us")},
		{"p99 µs", "%.0f", field("lat_p99_us")},
		{"load gen CPU %", "%.0f", loadShare},
	},
	"s3": {
		{"delivered %", "%.1f", delivered},
		{"p50 ms", "%.1f", ms("lat_p50_us")},
		{"p99 ms", "%.1f", ms("lat_p99_us")},
		{"max ms", "%.1f", ms("lat_max_us")},
		{"server CPU µs/delivery", "%.2f", field("cpu_us_per_msg")},
		{"load gen CPU %", "%.0f", loadShare},
	},
	"s4": {
		{"msg/s sent", "%.0f", field("send_rate")},
		{"delivered %", "%.2f", delivered},
		{"p50 µs", "%.0f", field("lat_p50_us")},
		{"p99 µs", "%.0f", field("lat_p99_us")},
		{"max µs", "%.0f", field("lat_max_us")},
		{"broker round trips/msg", "%.3f", field("round_trips_per_msg")},
		{"Redis PUBLISH/msg", "%.3f", field("publish_per_msg")},
		{"server CPU µs/msg", "%.1f", field("cpu_us_per_msg")},
		{"Redis CPU µs/msg", "%.1f", field("redis_us_per_msg")},
	},
	"s5": {
		{"others delivered %", "%.1f", delivered},
		{"others p99 ms", "%.1f", ms("lat_p99_us")},
		{"server RSS growth (MiB)", "%.1f", rssGrowth},
		{"slow consumers closed", "%.0f", field("slow_closed")},
		{"slow consumers", "%.0f", field("slow")},
	},
	"s6": {
		{"connects/s", "%.0f", field("churn_rate")},
		{"accept p50 µs", "%.0f", field("lat_p50_us")},
		{"accept p99 µs", "%.0f", field("lat_p99_us")},
		{"accept max ms", "%.1f", ms("lat_max_us")},
		{"stalls (>1 s)", "%.0f", field("stalls")},
		{"failed", "%.0f", field("failed")},
		{"server fds after − before", "%.0f", diff("fds_after", "fds_before")},
		{"goroutines after − before", "%.0f", diff("goroutines_after", "goroutines_before")},
	},
	"s7": {
		{"connections up", "%.0f", field("up")},
		{"delivered %", "%.1f", delivered},
		{"p50 ms", "%.1f", ms("lat_p50_us")},
		{"p99 ms", "%.1f", ms("lat_p99_us")},
		{"max ms", "%.1f", ms("lat_max_us")},
		{"server CPU µs/delivery", "%.2f", field("cpu_us_per_msg")},
		{"server RSS, all nodes (MiB)", "%.0f", mib("rss_peak")},
		{"RSS per conn (B)", "%.0f", field("rss_per_conn")},
		{"load gen CPU %", "%.0f", loadShare},
	},
	"s8": {
		{"storm up, no broadcasts (s)", "%.2f", field("storm_quiet_s")},
		{"storm up, broadcasting (s)", "%.2f", field("storm_busy_s")},
		{"ratio", "%.2f", field("storm_ratio")},
		{"p99 before the storm ms", "%.1f", ms("calm_p99_us")},
		{"p99 during the storm ms", "%.1f", ms("lat_p99_us")},
		{"p99 ratio", "%.2f", field("storm_p99_ratio")},
		{"storm failed", "%.0f", field("storm_failed")},
	},
}

func ms(k string) func(report) float64 {
	return func(r report) float64 { return r.num(k) / 1e3 }
}

func diff(a, b string) func(report) float64 {
	return func(r report) float64 { return r.num(a) - r.num(b) }
}

// delivered is the share of expected deliveries that arrived.
func delivered(r report) float64 {
	if e := r.num("expected"); e > 0 {
		return 100 * r.num("msgs") / e
	}
	return 0
}

func mib(k string) func(report) float64 {
	return func(r report) float64 { return r.num(k) / (1 << 20) }
}

func rssGrowth(r report) float64 {
	return (r.num("rss_peak") - r.num("rss_before")) / (1 << 20)
}

// loadShare is the load generator's CPU over the window, in % of one core:
// near 100 means the load generator, not the server, set the pace.
func loadShare(r report) float64 {
	if w := r.num("window_s"); w > 0 {
		return 100 * r.num("load_cpu_s") / w
	}
	return 0
}
