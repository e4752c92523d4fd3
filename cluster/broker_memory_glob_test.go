package cluster_test

import (
	"testing"

	"github.com/plezigo/plezi/cluster"
)

// pglobTests are a few of dispatch's glob cases (dispatch/glob_test.go
// holds them all): the broker matches patterns with dispatch.MatchGlob.
var pglobTests = []struct {
	pattern, s string
	want       bool
}{
	{"news.*", "news.sport", true},
	{"news.*", "news", false},
	{"h?llo", "hello", true},
	{"h[^e]llo", "hello", false},
	{`h\*llo`, "h*llo", true},
}

// TestPSubscribeGlob runs glob cases through Memory.PSubscribe.
func TestPSubscribeGlob(t *testing.T) {
	t.Parallel()
	for _, tt := range pglobTests {
		m := cluster.NewMemory()
		got := false
		cancel, err := m.PSubscribe(tt.pattern, func(topic string, _ []byte) { got = topic == tt.s })
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Publish(tt.s, nil); err != nil {
			t.Fatal(err)
		}
		cancel()
		if got != tt.want {
			t.Errorf("PSubscribe(%q) got Publish(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
