package codec

import "github.com/gobwas/ws"

// Precompiled server control frames with empty payloads. They are shared:
// write them as they are and never modify them.
var (
	PingFrame = AppendFrame(nil, ws.OpPing, true, nil)
	PongFrame = AppendFrame(nil, ws.OpPong, true, nil)
)

// Close codes with a precompiled frame: 1000..1014 where valid on the wire.
const (
	firstCompiled = ws.StatusNormalClosure
	lastCompiled  = 1014
)

var compiledClose = func() (t [lastCompiled - firstCompiled + 1][]byte) {
	for i := range t {
		if code := firstCompiled + ws.StatusCode(i); ValidCloseCode(code) {
			t[i] = AppendClose(nil, code, "")
		}
	}
	return t
}()

// CompiledClose returns a shared close frame carrying code and no reason,
// for 1000–1003 and 1007–1014 (1002, 1007 and 1009 are what CloseCodeOf
// gives for decode errors); nil for other codes (use AppendClose). Safe for
// concurrent use; never modify the result.
func CompiledClose(code ws.StatusCode) []byte {
	if code < firstCompiled || code > lastCompiled {
		return nil
	}
	return compiledClose[code-firstCompiled]
}
