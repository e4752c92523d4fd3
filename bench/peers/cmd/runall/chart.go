package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// bar is one bar of a chart: the median and the range whisker.
type bar struct {
	label string
	s     stat
}

// chartSpec picks one run and one metric to draw per server; higher
// says which way is better (the chart says so under its title).
type chartSpec struct {
	file, title, unit, format string
	higher                    bool
	pick                      func(run) bool
	f                         func(report) float64
}

// underLoad picks S3's broadcasts at a rate (the last one is the largest).
func underLoad(ru run) bool { return ru.id == "s3" && ru.rate > 0 && ru.payload == 1024 }

// chartSpecs in the order RESULTS.md shows them: broadcast under load
// first, the case plezi is built for.
var chartSpecs = []chartSpec{
	{"s3_load_p99.png", "S3 broadcast under load: p99 delivery latency", "ms", "%.0f", false,
		underLoad, ms("lat_p99_us")},
	{"s3_load_cpu_per_delivery.png", "S3 broadcast under load: server CPU per delivery", "µs", "%.2f", false,
		underLoad, field("cpu_us_per_msg")},
	{"s1_rss_per_conn.png", "S1 idle: server RSS per connection", "bytes", "%.0f", false,
		func(ru run) bool { return ru.id == "s1" }, field("rss_per_conn")},
	{"s2_msgs_per_cpu.png", "S2 echo 64 B: messages per server CPU-second", "msg/CPU-s", "%.0f", true,
		func(ru run) bool { return ru.id == "s2" && ru.payload == 64 }, field("msgs_per_cpu_s")},
	{"s3_cpu_per_delivery.png", "S3 single broadcasts: server CPU per delivery", "µs", "%.2f", false,
		func(ru run) bool { return ru.id == "s3" && ru.rate == 0 && ru.payload == 64 }, field("cpu_us_per_msg")},
	{"s3_p99.png", "S3 single broadcasts: p99 delivery latency", "ms", "%.1f", false,
		func(ru run) bool { return ru.id == "s3" && ru.rate == 0 && ru.payload == 64 }, ms("lat_p99_us")},
	{"s6_accept_p99.png", "S6 churn: p99 accept latency", "µs", "%.0f", false,
		func(ru run) bool { return ru.id == "s6" }, field("lat_p99_us")},
	{"s8_storm_ratio.png", "S8 connection storm: time until all are up during broadcasts, over the time without", "×", "%.2f", false,
		func(ru run) bool { return ru.id == "s8" }, field("storm_ratio")},
}

// subtitle is the line under a chart's title: the unit and which way is
// better.
func (cs chartSpec) subtitle() string {
	way := "lower"
	if cs.higher {
		way = "higher"
	}
	return cs.unit + " — " + way + " is better"
}

// charts draws each spec for the last matching run (the largest size) and
// returns the file names written.
func (r *results) charts(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, cs := range chartSpecs {
		var ru *run
		for i := range r.runs {
			if cs.pick(r.runs[i]) && len(r.by[r.runs[i].key()]) > 0 {
				ru = &r.runs[i]
			}
		}
		if ru == nil {
			continue
		}
		var bars []bar
		for _, sv := range r.servers {
			if st := summarize(r.reps(*ru, sv.name), cs.f); st.n > 0 {
				bars = append(bars, bar{sv.name, st})
			}
		}
		if len(bars) == 0 {
			continue
		}
		img := drawBars(cs.title+" ("+ru.title+")", cs.subtitle(), cs.format, bars)
		if err := savePNG(filepath.Join(dir, cs.file), img); err != nil {
			return nil, err
		}
		files = append(files, cs.file)
	}
	return files, nil
}

var (
	ink    = color.RGBA{0x22, 0x22, 0x22, 0xff}
	grid   = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	fill   = color.RGBA{0x4c, 0x78, 0xa8, 0xff}
	accent = color.RGBA{0xe4, 0x57, 0x56, 0xff} // plezi's bar
	muted  = color.RGBA{0x66, 0x66, 0x66, 0xff}
)

// goFont is Go Regular: it has every glyph the titles use (µ, ×, —),
// which the fixed 7×13 font (ASCII only) drew as boxes. A Font is safe
// for concurrent use; each drawing makes its own Face, which is not.
var goFont = func() *opentype.Font {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the font is compiled in
	}
	return f
}()

// newFace returns Go Regular at 13 px, for one goroutine.
func newFace() font.Face {
	fc, err := opentype.NewFace(goFont, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err) // fixed options
	}
	return fc
}

// drawBars renders a horizontal bar chart with min–max whiskers.
func drawBars(title, subtitle, format string, bars []bar) *image.RGBA {
	const left, right, top, rowH = 90, 110, 66, 34
	fc := newFace()
	text := func(img *image.RGBA, x, y int, s string, c color.Color) { drawText(img, fc, x, y, s, c) }
	w := max(900, 20+textWidth(fc, title))
	h := top + rowH*len(bars) + 40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text(img, 10, 22, title, ink)
	text(img, 10, 42, subtitle, muted)
	maxV := 0.0
	for _, b := range bars {
		maxV = max(maxV, b.s.hi, b.s.med)
	}
	maxV = niceCeil(maxV)
	span := float64(w - left - right)
	x := func(v float64) int { return left + int(v/maxV*span) }
	for i := 0; i <= 4; i++ {
		gx := left + int(float64(i)/4*span)
		rect(img, gx, top-6, gx+1, h-34, grid)
		tick := trimNum(fmt.Sprintf("%g", maxV*float64(i)/4))
		text(img, gx-textWidth(fc, tick)/2, h-18, tick, ink)
	}
	for i, b := range bars {
		y := top + i*rowH
		c := fill
		if b.label == "plezi" {
			c = accent
		}
		text(img, 8, y+17, b.label, ink)
		rect(img, left, y+4, max(x(b.s.med), left+1), y+rowH-8, c)
		if b.s.n > 1 {
			rect(img, x(b.s.lo), y+rowH/2-1, x(b.s.hi)+1, y+rowH/2+1, ink)
			rect(img, x(b.s.lo), y+8, x(b.s.lo)+1, y+rowH-12, ink)
			rect(img, x(b.s.hi), y+8, x(b.s.hi)+1, y+rowH-12, ink)
		}
		text(img, max(x(b.s.med), x(b.s.hi))+6, y+17, fmt.Sprintf(format, b.s.med), ink)
	}
	return img
}

// niceCeil rounds v up to 1, 2, 2.5, 4 or 5 × 10^k (quarter ticks stay round).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 4, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}

func drawText(img *image.RGBA, fc font.Face, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: fc, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textWidth is how many pixels s takes in fc.
func textWidth(fc font.Face, s string) int { return font.MeasureString(fc, s).Ceil() }

func savePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err = png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
