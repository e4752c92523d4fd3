package main

import (
	"sync"
	"time"
	"unicode"
)

// maxNick is the longest nickname, in characters.
const maxNick = 32

// holdTTL bounds a hold that PreConnect took but OnOpen never confirmed:
// the server may still refuse the upgrade after PreConnect (connection cap,
// shutdown, client gone), and no callback tells the controller. Past it
// another connection may take the nickname; the late one then closes.
const holdTTL = 10 * time.Second

// validNick reports whether s is 1 to maxNick letters, digits, '_', '-'
// or '.'.
func validNick(s string) bool {
	n := 0
	for _, r := range s {
		if n++; n > maxNick || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return n > 0 // invalid UTF-8 ranges as U+FFFD, not a letter
}

// nickSet is the nicknames held on this node, each by one chat connection:
// first come, first served, until that connection closes. Safe for
// concurrent use (PreConnect, OnOpen and OnClose run on workers).
type nickSet struct {
	mu sync.Mutex
	m  map[string]nickHold // guarded by mu
}

// nickHold is one nickname's holder; open once its OnOpen confirmed it.
type nickHold struct {
	c     *Chat
	open  bool
	since time.Time
}

func newNickSet() *nickSet { return &nickSet{m: map[string]nickHold{}} }

// hold gives nick to c unless another connection holds it (an open one, or
// one whose upgrade is under way for less than holdTTL).
func (s *nickSet) hold(nick string, c *Chat, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.m[nick]; ok && h.c != c && (h.open || now.Sub(h.since) < holdTTL) {
		return false
	}
	s.m[nick] = nickHold{c: c, since: now}
	return true
}

// confirm marks c's hold of nick open; false when c no longer holds it.
func (s *nickSet) confirm(nick string, c *Chat) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.m[nick]
	if !ok || h.c != c {
		return false
	}
	h.open = true
	s.m[nick] = h
	return true
}

// release frees nick if c holds it, and reports whether it did.
func (s *nickSet) release(nick string, c *Chat) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.m[nick]; !ok || h.c != c {
		return false
	}
	delete(s.m, nick)
	return true
}
