package server

import "time"

// HeldBytes is, over s's connections, the most bytes one of them holds in
// gnet's buffers: its unread input plus its unsent output; -1 when a loop
// did not answer. Test only.
func HeldBytes(s *Server) int {
	res := make(chan int, len(s.loops))
	n := 0
	for _, l := range s.loops {
		if !l.bound() {
			continue
		}
		n++
		l.submit(task{fn: func() { res <- l.held() }})
	}
	most := 0
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case m := <-res:
			most = max(most, m)
		case <-timeout:
			return -1
		}
	}
	return most
}

// held is the most bytes one connection of l holds. Loop only.
func (l *loop) held() int {
	most := 0
	for _, c := range l.conns {
		if c.state != stateClosed {
			most = max(most, c.gc.InboundBuffered()+c.gc.OutboundBuffered())
		}
	}
	return most
}

// BusyLoop runs, as a task on s's first loop, d of work paced as a loop's
// units of work are (a unit every 10 µs), and returns once it has run.
// Test only.
func BusyLoop(s *Server, d time.Duration) {
	l := s.loops[0]
	done := make(chan struct{})
	l.submit(task{fn: func() {
		defer close(done)
		end := time.Now().Add(d)
		for next := time.Now(); next.Before(end); {
			for time.Now().Before(next) { // a unit of work
			}
			l.paceWork()
			next = next.Add(10 * time.Microsecond)
		}
	}})
	<-done
}
