// Package ops is the operations side of cmd/plezi: Prometheus metrics read
// from the server's, hub's and broker's counters at scrape time, and the
// status page with its JSON feed, both behind the API key.
//
//	o, err := ops.Mount(srv, ops.Config{APIKey: func() string { return key }})
//	...
//	defer o.Close() // after srv.Run returned
//
// Nothing here runs on the websocket hot path: the collector only loads
// atomics (and briefly locks the worker shards for the queue depth) when
// /metrics is scraped.
package ops
