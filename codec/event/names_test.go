package event

import "testing"

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, snake, camel string }{
		{"Said", "said", "said"},
		{"ChatMessage", "chat_message", "chatMessage"},
		{"HTTPRequest", "http_request", "httpRequest"},
		{"ID", "id", "id"},
		{"GetID", "get_id", "getID"},
		{"Move2D", "move2_d", "move2D"},
		{"A", "a", "a"},
		{"ABCdef", "ab_cdef", "abCdef"},
		{"Über", "über", "über"},
		{"Chat_Message", "chat_message", "chat_Message"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := snakeCase(tt.in); got != tt.snake {
				t.Errorf("snakeCase(%q) = %q, want %q", tt.in, got, tt.snake)
			}
			if got := lowerCamel(tt.in); got != tt.camel {
				t.Errorf("lowerCamel(%q) = %q, want %q", tt.in, got, tt.camel)
			}
		})
	}
}
