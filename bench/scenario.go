package bench

// onOpen runs when c is upgraded (or connected, for raw peers).
func (l *loop) onOpen(c *conn) {
	switch {
	case l.churn.active:
		l.churnOpened(c)
	case l.e.cfg.Scenario == ScenarioEcho && l.started && !l.stopped:
		l.send(c)
	}
}

// onFailed runs when c failed before it opened.
func (l *loop) onFailed(c *conn) {
	if l.churn.active || l.churn.total > 0 {
		l.churn.inFlight--
	}
}

// message handles one data message; p is valid until it returns.
func (l *loop) message(c *conn, p []byte) {
	if l.e.cfg.Scenario == ScenarioPubSub {
		l.subMessage(c, p) // setup replies, then deliveries
		return
	}
	if !c.up {
		l.gotID(c, p) // unicast: the first message is the connection's id
		return
	}
	if !l.started || l.stopped || c.slow {
		return
	}
	ts, ok := StampOf(p)
	if l.e.cfg.Scenario == ScenarioUnicast {
		ts, ok = TextStampOf(p)
	}
	if ok {
		l.hist.Record(Now() - ts)
	}
	l.c.msgs.Add(1)
	if l.e.cfg.Scenario == ScenarioEcho {
		l.send(c)
	}
}

// send stamps the loop's frame and writes it on c.
func (l *loop) send(c *conn) bool {
	_ = l.tmpl.Stamp(Now())
	if !l.write(c, l.tmpl.Bytes()) {
		return false
	}
	l.c.sent.Add(1)
	return true
}

// start begins the scenario on this loop (a task).
func (l *loop) start() {
	cfg := &l.e.cfg
	l.started, l.t0 = true, Now()
	switch cfg.Scenario {
	case ScenarioEcho:
		for _, c := range l.conns {
			if c != nil && c.state == stOpen {
				l.send(c)
			}
		}
	case ScenarioChurn:
		l.churnStart()
	}
}

// startSending lets the push sender or the unicast senders go (a task):
// Engine.Start runs it only after every loop counts messages, so no
// receiver misses the first one.
func (l *loop) startSending() {
	switch {
	case l.e.cfg.Scenario == ScenarioPush && l.e.cfg.Sender:
		l.sending, l.nextSend = true, Now()
	case l.e.cfg.Scenario == ScenarioUnicast:
		l.unicastStart()
	}
}

// stop ends the measured window on this loop (a task).
func (l *loop) stop() {
	l.stopped = true
	l.churn.active = false
}

// sendTick sends the push scenario's next message when it is due.
func (l *loop) sendTick(now int64) {
	cfg := &l.e.cfg
	if !l.sending || l.stopped || now < l.nextSend || int(l.c.sent.Load()) >= cfg.Count {
		return
	}
	if l.sender.state != stOpen {
		return
	}
	l.nextSend += int64(1e9 / cfg.Rate)
	l.send(l.sender)
}
