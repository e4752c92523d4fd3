package wstest

// WriteMessage writes a data message of type op (OpText or OpBinary) in
// frames of at most fragSize payload bytes (0: one frame), all in one write
// call. With compress and a negotiated permessage-deflate, the payload is
// compressed first and RSV1 is set on the first frame.
func (c *Client) WriteMessage(op Opcode, payload []byte, fragSize int, compress bool) error {
	return c.WriteRaw(c.EncodeMessage(op, payload, fragSize, compress))
}

// EncodeMessage returns the wire bytes WriteMessage would write. With
// compression it advances the compressor's context, so each result must be
// sent, in order.
func (c *Client) EncodeMessage(op Opcode, payload []byte, fragSize int, compress bool) []byte {
	var rsv uint8
	if compress && c.deflate != nil {
		payload = c.deflate.compress(payload)
		rsv = Rsv1
	}
	if fragSize <= 0 || fragSize > len(payload) {
		fragSize = max(len(payload), 1)
	}
	var out []byte
	for first := true; first || len(payload) > 0; first = false {
		n := min(fragSize, len(payload))
		f := Frame{Fin: n == len(payload), Op: OpContinuation, Payload: payload[:n]}
		if first {
			f.Op, f.Rsv = op, rsv
		}
		out = append(out, c.Encode(f)...)
		payload = payload[n:]
	}
	return out
}

// Fragments splits payload into frames of at most size bytes for a message
// of type op (a zero-length payload gives one frame).
func Fragments(op Opcode, payload []byte, size int) []Frame {
	var fs []Frame
	for first := true; first || len(payload) > 0; first = false {
		n := min(size, len(payload))
		f := Frame{Fin: n == len(payload), Op: OpContinuation, Payload: payload[:n]}
		if first {
			f.Op = op
		}
		fs = append(fs, f)
		payload = payload[n:]
	}
	return fs
}
