package codec

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

var closeCases = []struct {
	name    string
	in      []byte
	code    ws.StatusCode
	reason  string
	err     error
	closeAs ws.StatusCode
}{
	{name: "empty", in: nil, code: ws.StatusNoStatusRcvd},
	{name: "one byte", in: []byte{0x03}, err: ErrCloseLength, closeAs: 1002},
	{name: "normal", in: closePayload(1000, ""), code: 1000},
	{name: "normal with reason", in: closePayload(1000, "bye ☃"), code: 1000, reason: "bye ☃"},
	{name: "1001", in: closePayload(1001, ""), code: 1001},
	{name: "1003", in: closePayload(1003, ""), code: 1003},
	{name: "1007", in: closePayload(1007, ""), code: 1007},
	{name: "1011", in: closePayload(1011, ""), code: 1011},
	{name: "1014", in: closePayload(1014, ""), code: 1014},
	{name: "3000", in: closePayload(3000, ""), code: 3000},
	{name: "4999", in: closePayload(4999, ""), code: 4999},
	{name: "0", in: closePayload(0, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "999", in: closePayload(999, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "1004", in: closePayload(1004, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "1005", in: closePayload(1005, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "1006", in: closePayload(1006, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "1015", in: closePayload(1015, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "1016", in: closePayload(1016, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "2999", in: closePayload(2999, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "5000", in: closePayload(5000, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "65535", in: closePayload(65535, ""), err: ErrCloseCode, closeAs: 1002},
	{name: "bad reason", in: closePayload(1000, "\xce\xba\xe1\xbd"), err: ErrInvalidUTF8, closeAs: 1007},
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	for _, tc := range closeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, reason, err := ParseClose(tc.in)
			if err != tc.err {
				t.Fatalf(
					"err = %v, want %v",
					err, tc.err,
				)
			}
			if err != nil {
				if got := CloseCodeOf(err); got != tc.closeAs {
					t.Fatalf(
						"CloseCodeOf = %d, want %d",
						got, tc.closeAs,
					)
				}
				return
			}
			if code != tc.code || string(reason) != tc.reason {
				t.Fatalf(
					"got %d %q, want %d %q",
					code, reason, tc.code, tc.reason,
				)
			}
		})
	}
}

func FuzzParseClose(f *testing.F) {
	for _, tc := range closeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		if err != nil {
			if c := CloseCodeOf(err); c != 1002 && c != 1007 {
				t.Fatalf(
					"error %v maps to %d",
					err, c,
				)
			}
			return
		}
		if len(p) == 0 {
			if code != ws.StatusNoStatusRcvd || reason != nil {
				t.Fatalf("empty payload gave %d %q", code, reason)
			}
			return
		}
		if !ValidCloseCode(code) || !ValidUTF8(reason) {
			t.Fatalf(
				"accepted code %d reason %q",
				code, reason,
			)
		}
		if len(p) > 125 {
			return // longer than a control frame may carry
		}
		// What AppendClose writes for an accepted payload parses back.
		frame := AppendClose(nil, code, string(reason))
		if !bytes.Equal(frame[2:], p) {
			t.Fatalf(
				"AppendClose(%d, %q) payload %x, want %x",
				code, reason, frame[2:], p,
			)
		}
	})
}
