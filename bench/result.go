package bench

// Result is what one engine measured. Counts are over the measured window
// except Up/Failed (whole run).
type Result struct {
	Up     int64  `json:"up"`
	Failed int64  `json:"failed"`
	Closed int64  `json:"closed"`
	Msgs   int64  `json:"msgs"`
	Sent   int64  `json:"sent"`
	Bytes  int64  `json:"bytes"`
	Hist   Sparse `json:"hist"`

	ConnectErrs   int64 `json:"connect_errs"`
	HandshakeErrs int64 `json:"handshake_errs"`
	Timeouts      int64 `json:"timeouts"`
	Resets        int64 `json:"resets"` // churn halves the server closed first
	Slow          int64 `json:"slow"`
	SlowClosed    int64 `json:"slow_closed"`
	ServerClosed  int64 `json:"server_closed"`
	HalfDone      int64 `json:"half_done"`
	FullDone      int64 `json:"full_done"`
	Stalls        int64 `json:"stalls"`
	ChurnSpan     int64 `json:"churn_span_ns"`          // churn: start to the last connect
	SendSpan      int64 `json:"send_span_ns,omitempty"` // unicast: start to the last send
	// LastUp is Now() when the engine's last connection was upgraded: a
	// CLOCK_MONOTONIC stamp, comparable across processes (0: none was).
	LastUp int64 `json:"last_up_ns,omitempty"`
}

func (r *Result) add(s *loopStats) {
	r.ConnectErrs += s.connectErrs
	r.HandshakeErrs += s.handshakeErrs
	r.Timeouts += s.timeouts
	r.Resets += s.resets
	r.Slow += s.slow
	r.SlowClosed += s.slowClosed
	r.ServerClosed += s.serverClosed
	r.HalfDone += s.halfDone
	r.FullDone += s.fullDone
	r.Stalls += s.stalls
	r.ChurnSpan = max(r.ChurnSpan, s.span)
	r.SendSpan = max(r.SendSpan, s.sendSpan)
	r.LastUp = max(r.LastUp, s.lastUp)
}

// Merge adds o's counts into r (results of several workers). Not safe for
// concurrent use of r; o is only read.
func (r *Result) Merge(o *Result) error {
	var h, oh Histogram
	if err := h.MergeSparse(r.Hist); err != nil {
		return err
	}
	if err := oh.MergeSparse(o.Hist); err != nil {
		return err
	}
	h.Merge(&oh)
	hist := h.Sparse()
	r.Up += o.Up
	r.Failed += o.Failed
	r.Closed += o.Closed
	r.Msgs += o.Msgs
	r.Sent += o.Sent
	r.Bytes += o.Bytes
	r.add(&loopStats{o.ConnectErrs, o.HandshakeErrs, o.Timeouts, o.Resets,
		o.Slow, o.SlowClosed, o.ServerClosed, o.HalfDone, o.FullDone, o.Stalls, o.ChurnSpan, o.SendSpan, o.LastUp})
	r.Hist = hist
	return nil
}

// Histogram returns a new copy of r's latency histogram, owned by the caller.
func (r *Result) Histogram() (*Histogram, error) {
	h := new(Histogram)
	return h, h.MergeSparse(r.Hist)
}
