package dispatch_test

import (
	"testing"

	"github.com/plezigo/plezi/dispatch"
)

// globTests follow Redis's stringmatchlen (PSUBSCRIBE patterns).
var globTests = []struct {
	pattern, s string
	want       bool
}{
	{"", "", true},
	{"", "a", false},
	{"*", "", true},
	{"*", "anything at all", true},
	{"**", "x", true},
	{"news.*", "news.sport", true},
	{"news.*", "news.", true},
	{"news.*", "news", false},
	{"news.*", "xnews.sport", false},
	{"*.sport", "news.sport", true},
	{"*.sport", "news.sports", false},
	{"a*b*c", "aXXbYYc", true},
	{"a*b*c", "aXXbYY", false},
	{"h?llo", "hello", true},
	{"h?llo", "hllo", false},
	{"h?llo", "heello", false},
	{"?", "", false},
	{"h[ae]llo", "hello", true},
	{"h[ae]llo", "hallo", true},
	{"h[ae]llo", "hillo", false},
	{"h[^e]llo", "hallo", true},
	{"h[^e]llo", "hello", false},
	{"h[a-b]llo", "hbllo", true},
	{"h[a-b]llo", "hcllo", false},
	{"h[b-a]llo", "hallo", true}, // reversed ranges work as in Redis
	{"[a-]", "-", true},
	{"[]", "a", false},
	{"[abc", "b", true}, // an unclosed set ends at the end of the pattern
	{`h\*llo`, "h*llo", true},
	{`h\*llo`, "hello", false},
	{`h\?`, "h?", true},
	{`[\]]`, "]", true},
	{`\`, `\`, true},
	{"user:*:box", "user:42:box", true},
	{"user:*:box", "user:42:inbox", false},
	{"*a", "aaaa", true},
	{"é*", "été", true},
}

func TestMatchGlob(t *testing.T) {
	t.Parallel()
	for _, tt := range globTests {
		if got := dispatch.MatchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func FuzzMatchGlob(f *testing.F) {
	for _, tt := range globTests {
		f.Add(tt.pattern, tt.s)
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 64 { // '*' backtracking is exponential in stars
			return
		}
		got := dispatch.MatchGlob(p, s)
		if dispatch.MatchGlob(globQuote(s), s) != true {
			t.Fatalf("quoted %q does not match itself", s)
		}
		if p == s && !hasMeta(p) && !got {
			t.Fatalf("literal %q does not match itself", p)
		}
		if dispatch.MatchGlob("*"+p, s) != got && got {
			t.Fatalf("'*'+%q lost a match of %q", p, s)
		}
	})
}

func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}

// globQuote escapes every byte so the pattern matches s literally.
func globQuote(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, '\\', s[i])
	}
	return string(b)
}
