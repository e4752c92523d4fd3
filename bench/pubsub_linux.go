package bench

// pubsubFrames are a loop's pre-masked client frames of the pubsub
// scenario, built on the loop's first subscribing connection; loop-owned.
type pubsubFrames struct {
	first, second []byte // setup commands (see setupCommands); second is nil for plezi
	pong          []byte // centrifugo: the answer to the server's ping
}

// subOpen sends an upgraded pubsub connection's first setup command; the
// connection counts as up once the server acknowledges the subscription
// (subStep).
func (l *loop) subOpen(c *conn) {
	if l.ps.first == nil {
		cfg := &l.e.cfg
		first, second := setupCommands(cfg.Proto, cfg.Channel)
		l.ps.first = NewFrame(OpText, first, l.e.mask()).Bytes()
		if second != nil {
			l.ps.second = NewFrame(OpText, second, l.e.mask()).Bytes()
		}
		l.ps.pong = NewFrame(OpText, []byte("{}"), l.e.mask()).Bytes()
	}
	l.write(c, l.ps.first)
}

// subMessage handles one message of a pubsub connection: the setup
// replies until it is subscribed, then deliveries, counted and timed in
// the measured window. p is valid until it returns.
func (l *loop) subMessage(c *conn, p []byte) {
	proto := l.e.cfg.Proto
	if proto == ProtoCentrifugo && hasPing(p) && !l.write(c, l.ps.pong) {
		return
	}
	for !c.up && len(p) > 0 {
		var reply []byte
		reply, p = cutReply(proto, p)
		if !l.subStep(c, reply) {
			return
		}
	}
	if !c.up || !l.started || l.stopped || len(p) == 0 {
		return
	}
	if n := scanStamps(p, &l.hist, Now()); n > 0 {
		l.c.msgs.Add(int64(n))
	}
}

// subStep applies one setup reply; it returns false when c was closed.
// A refused or unexpected reply fails the connection (a handshake error).
func (l *loop) subStep(c *conn, reply []byte) bool {
	switch parseSetup(l.e.cfg.Proto, reply) {
	case setupConnected:
		if l.ps.second != nil {
			return l.write(c, l.ps.second)
		}
	case setupSubscribed:
		l.ready(c)
		return c.state == stOpen
	case setupFailed:
		l.stats.handshakeErrs++
		l.fail(c)
		return false
	}
	return true
}
