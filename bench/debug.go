package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Stats is the part of a plezi server's GET /debug/stats answer the
// benchmarks read (cmd/plezi -debug serves it).
type Stats struct {
	Delivered         int64 `json:"delivered"`
	UnicastFailed     int64 `json:"unicast_failed"`
	PublishErrors     int64 `json:"publish_errors"`
	ClusterEnvelopes  int64 `json:"cluster_envelopes"`   // envelopes handed to the broker
	ClusterRoundTrips int64 `json:"cluster_round_trips"` // broker calls (a pipeline counts once)
}

// FetchStats asks the server at addr for its /debug/stats (3 s timeout, one
// connection closed after the answer). It returns ErrNoStats when the
// server does not serve them. Safe from any goroutine.
func FetchStats(ctx context.Context, addr string) (Stats, error) {
	var s Stats
	return s, getJSON(ctx, addr, "/debug/stats", &s)
}

// getJSON decodes the JSON answer to GET http://addr+path into v; a 404 is
// ErrNoStats, any other status but 200 ErrProtocol.
func getJSON(ctx context.Context, addr, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return json.NewDecoder(resp.Body).Decode(v)
	case http.StatusNotFound:
		return ErrNoStats
	}
	return ErrProtocol
}
