package main

import (
	"strings"
	"testing"
)

// TestChartGlyphs: the chart font has a glyph for every character of
// every chart's title, subtitle and run title (the ASCII-only font drew
// "µs" as a box), and every subtitle says which way is better.
func TestChartGlyphs(t *testing.T) {
	t.Parallel()
	var texts []string
	for _, cs := range chartSpecs {
		texts = append(texts, cs.title, cs.subtitle())
		if !strings.HasSuffix(cs.subtitle(), "lower is better") && !strings.HasSuffix(cs.subtitle(), "higher is better") {
			t.Errorf("%s: subtitle %q says not which way is better", cs.file, cs.subtitle())
		}
	}
	for _, quick := range []bool{false, true} {
		for _, ru := range plan(quick) {
			texts = append(texts, ru.title)
		}
	}
	face := newFace()
	for _, s := range texts {
		for _, r := range s {
			if _, ok := face.GlyphAdvance(r); !ok {
				t.Errorf("no glyph for %q in %q", r, s)
			}
		}
	}
}

// TestChartsDrawn: each chart with data is written, the broadcast under
// load first.
func TestChartsDrawn(t *testing.T) {
	t.Parallel()
	files, err := fakeResults(t, false, "").charts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(chartSpecs) || files[0] != "s3_load_p99.png" {
		t.Fatalf("charts %v", files)
	}
}
