// Package wstest is a raw RFC 6455 / RFC 7692 websocket client for black-box
// tests of websocket servers.
//
// Unlike a regular client library it never fixes what the test asks for: it
// writes arbitrary frames (masked or not, any opcode, RSV bits and FIN),
// writes them whole or split into chops with pauses chosen by the test, reads
// frames and messages with deadlines, and reports exactly what the server
// sent, including the close code and whether the TCP connection was closed.
//
//	c, err := wstest.Dial("127.0.0.1:3000", "/echo", wstest.Options{})
//	if err != nil { ... }
//	defer c.Close()
//	c.WriteFrame(wstest.Frame{Fin: true, Op: wstest.OpText, Payload: []byte("hi")})
//	m, err := c.ReadMessage(time.Second) // m.Op == OpText, m.Payload == "hi"
//	c.WriteFrame(wstest.CloseFrame(1000, ""))
//	code, reason, err := c.ReadClose(time.Second)
//
// When the server accepts permessage-deflate (Options.Extensions carries the
// offer), ReadMessage inflates compressed messages, enforcing the negotiated
// server_no_context_takeover and server_max_window_bits, and WriteMessage
// compresses following the negotiated client parameters.
//
// Goroutine rule: a Client is not safe for concurrent use, except that Close
// and Conn().Close may be called from any goroutine to abort blocked reads.
// Memory: payloads returned by reads are owned by the caller.
package wstest
