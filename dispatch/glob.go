package dispatch

// Channel patterns (SubscribePattern, PSUBSCRIBE on Redis) are Redis-style
// globs; the brokers of package cluster match with the same function.

// MatchGlob matches s against a Redis-style glob: * ? [set] [^set] [a-z]
// \x, as Redis's stringmatchlen does (a broker's PSubscribe uses it).
// Concurrency-safe; '*' backtracks, so the cost grows with the stars.
func MatchGlob(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if MatchGlob(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			rest, ok := matchSet(p[1:], s[0])
			if !ok {
				return false
			}
			p, s = rest, s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// matchSet matches b against the set body p (after '['), returning the
// pattern after the closing ']'.
func matchSet(p string, b byte) (string, bool) {
	neg := len(p) > 0 && p[0] == '^'
	if neg {
		p = p[1:]
	}
	found := false
	for len(p) > 0 && p[0] != ']' {
		lo := p[0]
		if lo == '\\' && len(p) > 1 {
			p = p[1:]
			lo = p[0]
		}
		p = p[1:]
		hi := lo
		if len(p) > 1 && p[0] == '-' && p[1] != ']' {
			hi = p[1]
			p = p[2:]
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if b >= lo && b <= hi {
			found = true
		}
	}
	if len(p) > 0 {
		p = p[1:]
	}
	return p, found != neg
}
