// Package codec turns bytes into websocket messages and back, with no I/O:
// the server peeks its inbound buffer, calls these functions, and discards
// the bytes they consumed.
//
// It covers HTTP/1.1 request heads (RequestParser, incremental and
// allocation-free), the RFC 6455 opening handshake (CheckUpgrade,
// AppendUpgradeResponse), permessage-deflate negotiation (NegotiateDeflate,
// RFC 7692), client frame decoding with every RFC 6455 check (Decoder) and
// server frame encoding (AppendFrame, Encoder, and Prepared for fan-out:
// encode once, write the same bytes to many connections). The JSON event
// protocol carried in text messages is package codec/event.
//
// A connection's inbound path, in outline:
//
//	var p codec.RequestParser
//	var req codec.Request
//	n, err := p.Parse(in, &req) // 0, nil: wait for more bytes
//	key, err := codec.CheckUpgrade(&req)
//	params, ext, ok := codec.NegotiateDeflate(&req)
//	out = codec.AppendUpgradeResponse(out, key, "", ext)
//
//	var d codec.Decoder
//	if ok {
//		d.EnableDeflate(params)
//	}
//	for {
//		ev, n, err := d.Next(in)
//		if err != nil {
//			out = codec.AppendClose(out, codec.CloseCodeOf(err), "")
//			break
//		}
//		in = in[n:] // the server discards n bytes
//		if ev.Kind == codec.KindNone && n == 0 {
//			break // wait for more bytes
//		}
//		// handle ev; ev.Payload is valid until the next Next call
//	}
//
// Errors: ProtocolError values close a connection with 1002,
// ErrInvalidUTF8 and ErrInflate with 1007, ErrMessageTooBig with 1009
// (CloseCodeOf); HTTP failures are *HTTPError values carrying their status
// (AppendHTTPError writes the response).
//
// Goroutines: a RequestParser, Request, Decoder and Encoder belong to one
// connection and its loop; a Prepared and the package functions are safe
// for concurrent use. Each function documents how long the memory it
// returns stays valid.
package codec
