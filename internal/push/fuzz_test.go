package push

import (
	"encoding/json"
	"testing"
)

// FuzzParseFrame: every input parses to a frame or an error, never a
// panic, and so do its two halves (a frame cut by a bad client); a frame
// that parses re-encodes its channel and data as valid JSON, and the note
// and stats parsers, fed the same bytes, are total too.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`{"event":"subscribe","channel":"news","_EID_":1}`,
		`{"event":"register","token":"a.b.c","after":"41"}`,
		`{"event":"refresh","token":"a.b.c","_EID_":"r1"}`,
		`{"event":"refresh","token":7}`,
		`{"event":"publish","channel":"chat:1","data":{"x":[1,2,"\u00e9"]}}`,
		`{"event":"message","_NID_":3,"_identity":"a","args":[1,2]}`,
		`{"node":"n1","connections":{"total":2},"channels":1}`,
		`{"node":"n1","identity":"ann"}`, `{"identity":""}`,
		`{"event":1}`, `[]`, `"x"`, `{"event":"x","after":{}}`,
	} {
		f.Add([]byte(s))
	}
	svc := &Service{cfg: Config{}, nodes: newNodeTable(4, 0)}
	svc.cfg.fill()
	f.Fuzz(func(t *testing.T, b []byte) {
		h := len(b) / 2
		for _, in := range [][]byte{b, b[:h], b[h:]} {
			fr, err := parseFrame(in)
			if err == nil {
				out := messageFrame(fr.Channel, fr.Data)
				if !json.Valid([]byte(out)) {
					t.Fatalf("messageFrame(%q, %q) = %q: not JSON", fr.Channel, fr.Data, out)
				}
				_, _ = parseNoteID("after", fr.After)
				if w := welcomeFrame(fr.Token, int64(len(in))); !json.Valid(w) {
					t.Fatalf("welcomeFrame(%q) = %q: not JSON", fr.Token, w)
				}
			}
			if name, data, ok := noteData(in); ok {
				if out := notifyFrame(nil, name, 1, 2, name, data); !json.Valid(out) {
					t.Fatalf("notifyFrame from %q = %q: not JSON", in, out)
				}
			}
			svc.parseStats(in)
			if m, ok := svc.parseDisconnect(in); ok && (m.Identity == "" || len(m.Identity) > svc.cfg.MaxName) {
				t.Fatalf("parseDisconnect(%q) took identity %q", in, m.Identity)
			}
		}
	})
}
