package jsclient

import (
	"bytes"
	"os"
	"testing"
	"unicode/utf8"
)

func TestSourceIsTheFile(t *testing.T) {
	disk, err := os.ReadFile("plezi.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, Source) {
		t.Fatal("Source differs from plezi.js on disk")
	}
	if !utf8.Valid(Source) {
		t.Fatal("plezi.js is not valid UTF-8")
	}
	dts, err := os.ReadFile("plezi.d.ts")
	if err != nil || !bytes.Equal(dts, Declarations) {
		t.Fatalf("Declarations differ from plezi.d.ts on disk (%v)", err)
	}
}

// TestDeclarationsCoverTheAPI: every public method of plezi.js is declared
// in plezi.d.ts (a static check; the file was checked with tsc --strict).
func TestDeclarationsCoverTheAPI(t *testing.T) {
	for _, m := range []string{"on", "off", "emit", "send", "close", "subscribe", "unsubscribe", "publish", "register", "refresh"} {
		if !bytes.Contains(Source, []byte("Plezi.prototype."+m+" =")) {
			t.Errorf("plezi.js lacks %s", m)
		}
		if !bytes.Contains(Declarations, []byte("  "+m+"(")) && !bytes.Contains(Declarations, []byte("  "+m+"<")) {
			t.Errorf("plezi.d.ts does not declare %s", m)
		}
	}
}

// TestSourceDefinesTheAPI checks, statically, that the script defines what
// the browser tests of cmd/plezi exercise at run time.
func TestSourceDefinesTheAPI(t *testing.T) {
	for _, want := range []string{
		"root.Plezi = Plezi",
		"Plezi.prototype.on =",
		"Plezi.prototype.off =",
		"Plezi.prototype.emit =",
		"Plezi.prototype.send =",
		"Plezi.prototype.close =",
		"'_resume='",
		"encodeURIComponent",
		"localStorage",
	} {
		if !bytes.Contains(Source, []byte(want)) {
			t.Errorf("plezi.js lacks %q", want)
		}
	}
}
