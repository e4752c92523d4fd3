package ops

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// collector is a prometheus.Collector reading the node's counters when
// scraped; it keeps no state of its own. Concurrency-safe.
type collector struct {
	srv     *server.Server
	version string
	plain   []plainMetric
	redis   []redisMetric

	info, conns, refusals, fanout, latency, ready, brokerHealthy *prometheus.Desc
}

// plainMetric is one unlabelled counter or gauge.
type plainMetric struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	read func() int64
}

// redisMetric is one counter of the Redis broker.
type redisMetric struct {
	desc *prometheus.Desc
	read func(r *cluster.Redis) int64
}

// Histogram bounds exported: fan-out sizes up to 2^20 recipients, latency
// up to 2^24 µs (16.8 s); larger observations land in +Inf.
const (
	fanoutTop  = 20
	latencyTop = 24
)

func newCollector(srv *server.Server, version string) *collector {
	c := &collector{srv: srv, version: version}
	c.info = prometheus.NewDesc("plezi_info", "The node's id and version (value 1).", []string{"node", "version"}, nil)
	c.conns = prometheus.NewDesc("plezi_connections", "Open websocket connections by controller type.", []string{"controller"}, nil)
	c.refusals = prometheus.NewDesc("plezi_refusals_total", "Upgrades and connections refused, by the HTTP status answered (403 Origin, PreConnect's status, 503 over -max-conns).", []string{"status"}, nil)
	c.fanout = prometheus.NewDesc("plezi_fanout_recipients", "Local connections one fan-out (multicast, broadcast, publish, from this node or the cluster) reached; one observation per fan-out.", nil, nil)
	c.latency = prometheus.NewDesc("plezi_delivery_latency_seconds", "Time from a fan-out's start on this node (publish, or cluster envelope arrival) to its frames being queued for writing on an event loop; one observation per loop reached.", nil, nil)
	c.ready = prometheus.NewDesc("plezi_ready", "1 while /readyz answers 200 (not draining, not deaf), else 0.", nil, nil)
	c.brokerHealthy = prometheus.NewDesc("plezi_broker_healthy", "1 while the broker's subscription answers its probes, else 0 (brokers that probe, such as Redis).", nil, nil)
	c.plain = append(serverMetrics(srv), hubMetrics(srv.Hub())...)
	c.redis = redisMetrics()
	return c
}

func counter(name, help string, read func() int64) plainMetric {
	return plainMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, read}
}

func gauge(name, help string, read func() int64) plainMetric {
	return plainMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, read}
}

func serverMetrics(s *server.Server) []plainMetric {
	st := s.Stats()
	return []plainMetric{
		counter("plezi_accepted_total", "TCP connections opened.", st.Accepted.Load),
		counter("plezi_upgrades_total", "Websocket upgrades answered 101.", st.Upgrades.Load),
		counter("plezi_received_messages_total", "Websocket data messages received.", s.MessagesIn),
		counter("plezi_sent_messages_total", "Websocket data messages handed to connections for writing.", s.MessagesOut),
		counter("plezi_received_bytes_total", "Websocket bytes received and parsed, frame headers included.", s.BytesIn),
		counter("plezi_sent_bytes_total", "Websocket bytes written, control frames included.", s.BytesOut),
		counter("plezi_slow_consumer_closes_total", "Connections closed with 4008 for passing -max-outbound.", st.SlowConsumers.Load),
		counter("plezi_protocol_errors_total", "Websocket connections failed for a protocol error.", st.ProtocolErrors.Load),
		counter("plezi_handshake_timeouts_total", "Connections closed for not completing a request in time.", st.HandshakeTimeouts.Load),
		counter("plezi_idle_timeouts_total", "Connections closed for being quiet past -idle.", st.IdleTimeouts.Load),
		counter("plezi_message_timeouts_total", "Connections failed (1008) for a message not completed in time.", st.MessageTimeouts.Load),
		counter("plezi_partial_overflows_total", "Connections failed (1013) for passing the node's cap on partial messages.", st.PartialOverflows.Load),
		gauge("plezi_partial_bytes", "Bytes held by messages still arriving.", st.PartialBytes.Load),
		counter("plezi_accept_errors_total", "Failed accept calls (EMFILE, ENFILE and others).", st.AcceptErrors.Load),
		counter("plezi_shed_total", "Connections shed at accept at the open-file limit.", st.Shed.Load),
		counter("plezi_loop_panics_total", "Panics recovered on the event loops (bugs; the connection is dropped).", st.Panics.Load),
		counter("plezi_loop_yields_total", "Times an event loop busy for 7 ms without a pause yielded to the Go scheduler.", st.LoopYields.Load),
		counter("plezi_flush_splits_total", "Times an event loop cut a long flush of fan-out writes short to read what waited (handshakes first).", st.FlushSplits.Load),
		gauge("plezi_websockets", "Open websocket connections.", func() int64 { return int64(s.Connections()) }),
	}
}

func hubMetrics(h *dispatch.Hub) []plainMetric {
	st := h.Stats()
	return []plainMetric{
		counter("plezi_callback_panics_total", "Panics recovered in controller callbacks (closed with 1011) and cluster envelope handling.", st.Panics.Load),
		counter("plezi_delivered_total", "Fan-out deliveries to local connections.", st.Delivered.Load),
		counter("plezi_dropped_total", "Messages dropped: no handler for them.", st.Dropped.Load),
		counter("plezi_unicast_failed_total", "Unicasts whose target was gone.", st.UnicastFailed.Load),
		gauge("plezi_dispatch_queue_depth", "Jobs queued on the worker shards not yet taken.", func() int64 { return int64(h.QueueDepth()) }),
		gauge("plezi_channels", "Channels and patterns with local subscribers.", func() int64 { return int64(h.Channels()) }),
		counter("plezi_broker_publishes_total", "Envelopes handed to the broker.", st.ClusterEnvelopes.Load),
		counter("plezi_broker_messages_total", "Broker messages the envelopes were joined into.", st.ClusterMessages.Load),
		counter("plezi_broker_round_trips_total", "Broker calls (round trips) that sent them.", st.ClusterRoundTrips.Load),
		counter("plezi_broker_publish_errors_total", "Broker publishes that failed.", st.PublishErrors.Load),
		counter("plezi_broker_received_total", "Envelopes received from other nodes.", st.RemoteIn.Load),
		counter("plezi_broker_bad_envelopes_total", "Envelopes dropped: unparsable, badly signed or panicking.", st.BadEnvelopes.Load),
		counter("plezi_notes_dropped_total", "Mailbox notes dropped, oldest first, to fit the bounds.", st.NotesDropped.Load),
		counter("plezi_mail_full_total", "Notes refused: the store's total is used up.", st.MailFull.Load),
	}
}

// redisMetrics are the Redis broker's own counters.
func redisMetrics() []redisMetric {
	desc := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return []redisMetric{
		{desc("plezi_redis_deaf_total", "Times the Redis subscription was found deaf (a probe went unanswered) and renewed."),
			func(r *cluster.Redis) int64 { return r.Deaf.Load() }},
		{desc("plezi_redis_errors_total", "Failed Redis publishes and commands."),
			func(r *cluster.Redis) int64 { return r.Errors.Load() }},
		{desc("plezi_redis_bad_messages_total", "Sharded messages that did not parse (dropped)."),
			func(r *cluster.Redis) int64 { return r.BadMessages.Load() }},
	}
}

// Describe sends every fixed descriptor; the Redis ones are described too
// so that a registry checks them (they appear once a Redis broker is up).
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.plain {
		ch <- m.desc
	}
	for _, m := range c.redis {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{c.info, c.conns, c.refusals, c.fanout, c.latency, c.ready, c.brokerHealthy} {
		ch <- d
	}
}

// Collect reads the counters. Concurrency-safe.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.plain {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, float64(m.read()))
	}
	c.collectBroker(ch)
	h := c.srv.Hub()
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, h.Node(), c.version)
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, boolFloat(c.srv.Healthy()))
	h.Controllers(func(name string, n int64) {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(n), name)
	})
	c.srv.Stats().RefusedStatus.Each(func(status int, n int64) {
		ch <- prometheus.MustNewConstMetric(c.refusals, prometheus.CounterValue, float64(n), strconv.Itoa(status))
	})
	ch <- histogram(c.fanout, &h.Stats().FanoutSize, fanoutTop, 1)
	ch <- histogram(c.latency, &h.Stats().DeliveryLatency, latencyTop, 1e-6)
}

// collectBroker sends the broker's health and, for Redis, its counters.
func (c *collector) collectBroker(ch chan<- prometheus.Metric) {
	b := c.srv.Broker()
	if hb, ok := b.(interface{ Healthy() bool }); ok {
		ch <- prometheus.MustNewConstMetric(c.brokerHealthy, prometheus.GaugeValue, boolFloat(hb.Healthy()))
	}
	if r, ok := b.(*cluster.Redis); ok {
		for _, m := range c.redis {
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.read(r)))
		}
	}
}

// histogram exports h's buckets up to 2^top, each bound times scale.
func histogram(d *prometheus.Desc, h *dispatch.Histogram, top int, scale float64) prometheus.Metric {
	b, sum := h.Snapshot()
	bounds := make(map[float64]uint64, top+1)
	var cum uint64
	for i, n := range b {
		cum += uint64(n)
		if i <= top {
			bounds[float64(dispatch.HistogramBound(i))*scale] = cum
		}
	}
	return prometheus.MustNewConstHistogram(d, cum, float64(sum)*scale, bounds)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
