package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Publisher bounds.
const (
	// MaxPublishInFlight bounds the publishes waiting for their answer; a
	// publish due while that many are out waits for one to return
	// (PublishStats.Late counts those).
	MaxPublishInFlight = 64
	// maxAnswer bounds the bytes of an API answer the publisher reads.
	maxAnswer = 64 << 10
	// publishTimeout bounds one publish request.
	publishTimeout = 30 * time.Second
)

// Publisher makes the pubsub scenario's publishes: POST URL with the body
// of PublishBody and the X-API-Key header, which plezi's /api/publish and
// Centrifugo's /api/publish both take. Each body is stamped just before its
// request is sent, so a delivery's latency runs from the publish call to
// the subscriber. Every method is safe from any goroutine.
type Publisher struct {
	url, key, channel string
	payload           int
	client            *http.Client
	sem               chan struct{} // MaxPublishInFlight slots

	mu      sync.Mutex // guards api and lastErr
	api     Histogram  // request round trips, ns
	lastErr string

	ok, failed, late atomic.Int64
}

// NewPublisher returns a publisher to url (e.g.
// "http://127.0.0.1:65001/api/publish") with API key key, on channel
// (JSON-safe: ErrConfig otherwise), with data strings of payload bytes.
func NewPublisher(url, key, channel string, payload int) (*Publisher, error) {
	if !channelOK(channel) || payload < pubDataMin {
		return nil, ErrConfig
	}
	tr := &http.Transport{MaxIdleConnsPerHost: MaxPublishInFlight, IdleConnTimeout: time.Minute}
	return &Publisher{url: url, key: key, channel: channel, payload: payload,
		client: &http.Client{Transport: tr, Timeout: publishTimeout},
		sem:    make(chan struct{}, MaxPublishInFlight)}, nil
}

// Run publishes count times, rate per second (the first at once), each on
// its own goroutine, and returns once every publish has returned or ctx
// ended.
func (p *Publisher) Run(ctx context.Context, rate float64, count int) {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < count && ctx.Err() == nil; i++ {
		due := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		select {
		case p.sem <- struct{}{}:
		default:
			p.late.Add(1)
			p.sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer func() { <-p.sem; wg.Done() }()
			p.publish(ctx)
		}()
	}
	wg.Wait()
}

// publish sends one stamped publish and records its outcome.
func (p *Publisher) publish(ctx context.Context) {
	ts := Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url,
		bytes.NewReader(PublishBody(p.channel, p.payload, ts)))
	if err != nil {
		p.fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", p.key)
	resp, err := p.client.Do(req)
	if err != nil {
		p.fail(err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	rtt := Now() - ts
	// Centrifugo answers 200 with {"error":{...}} when it refuses a publish.
	if err != nil || resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
		p.fail(resp.Status + " " + string(bytes.TrimSpace(body)))
		return
	}
	p.ok.Add(1)
	p.mu.Lock()
	p.api.Record(rtt)
	p.mu.Unlock()
}

func (p *Publisher) fail(why string) {
	p.failed.Add(1)
	p.mu.Lock()
	p.lastErr = why
	p.mu.Unlock()
}

// PublishStats is what a Publisher did so far.
type PublishStats struct {
	OK, Failed int64 // publishes the server accepted, and the others
	Late       int64 // publishes that waited for a slot (MaxPublishInFlight)
	API        Sparse
	LastErr    string // the last failure, "" when none
}

// Stats returns a snapshot, owned by the caller.
func (p *Publisher) Stats() PublishStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PublishStats{OK: p.ok.Load(), Failed: p.failed.Load(), Late: p.late.Load(),
		API: p.api.Sparse(), LastErr: p.lastErr}
}

// Close releases the publisher's idle connections.
func (p *Publisher) Close() { p.client.CloseIdleConnections() }
