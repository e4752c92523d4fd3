package event

import (
	"encoding/json"
	"strings"
	"testing"
)

// jsonCases are values whose validity encoding/json decides.
var jsonCases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `tru`, `falsey`, `0`, `-0`, `01`, `-`,
	`1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.25e-3`, `+1`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00g9"`,
	`"\x"`, `"unterminated`, "\"tab\there\"", "\"nl\nhere\"", "\"\xff\xfe\"",
	`"\ud83d\ude00"`, `"\ud83d"`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`,
	`{"a":[1,{"b":[null,true,{}]}]}`, `[{"a":1}]`, `[}`, `{]`, `[[[]]`, `[[]]]`,
	` {"a" : [ 1 , 2 ] } `, `1 2`, `{} {}`, `[1]x`,
}

func TestValidValue(t *testing.T) {
	t.Parallel()
	for _, in := range jsonCases {
		if got, want := validValue([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("validValue(%q) = %v, encoding/json says %v", in, got, want)
		}
	}
}

func TestValidDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"arrays at limit", strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)},
		{"arrays past limit", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)},
		{"objects at limit", strings.Repeat(`{"a":`, maxDepth-1) + "{}" + strings.Repeat("}", maxDepth-1)},
		{"objects past limit", strings.Repeat(`{"a":`, maxDepth) + "{}" + strings.Repeat("}", maxDepth)},
		{"mixed", strings.Repeat(`[{"a":`, 100) + "1" + strings.Repeat("}]", 100)},
		{"mismatched deep", strings.Repeat("[", 200) + strings.Repeat("}", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := validValue([]byte(tt.in)), json.Valid([]byte(tt.in)); got != want {
				t.Errorf("validValue = %v, encoding/json says %v", got, want)
			}
			obj := `{"event":"x","deep":` + tt.in + `}`
			var ref map[string]json.RawMessage
			_, err := Parse([]byte(obj))
			if refOK := json.Unmarshal([]byte(obj), &ref) == nil; refOK != (err == nil) {
				t.Errorf("Parse err %v, encoding/json ok %v", err, refOK)
			}
		})
	}
}

func TestUnquote(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`plain`, `caf\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83dx`, `\ud83d\u0041`,
		`\"\\\/\b\f\n\r\t`, "\xff", "a\xc3", "\xed\xa0\x80", `\u0000`, "é",
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+in+`"`), &want); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := string(appendUnquoted(nil, []byte(in))); got != want {
			t.Errorf("unquote(%q) = %q, want %q", in, got, want)
		}
		esc := strings.Contains(in, `\`)
		if !bodyEquals([]byte(in), esc, "event") && want == "event" {
			t.Errorf("bodyEquals(%q)", in)
		}
	}
	for in, want := range map[string]bool{
		`event`: true, `\u0065vent`: true, `\u0065\u0076\u0065\u006e\u0074`: true,
		`even`: false, `events`: false, `\u0065ven`: false, `\u0065vents`: false, `Event`: false,
	} {
		if got := bodyEquals([]byte(in), strings.Contains(in, `\`), "event"); got != want {
			t.Errorf("bodyEquals(%q, event) = %v", in, got)
		}
	}
}
