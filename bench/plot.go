package bench

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotFormat returns the image format for a plot file name from its extension: png, svg, pdf,
// jpg/jpeg, eps or tif/tiff.
func PlotFormat(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch ext {
	case "png", "svg", "pdf", "jpg", "jpeg", "eps", "tif", "tiff":
		return ext, nil
	}
	return "", fmt.Errorf("bench: plot file %q: unknown format (use .png, .svg or .pdf)", path)
}

// WritePlot draws the mean bits/dim of every codec that coded at least one image as a
// horizontal bar chart, each bar labelled with its value, and writes it to w in format (see
// PlotFormat).
func WritePlot(w io.Writer, format string, rep *Report) error {
	var labels []string
	var values, own plotter.Values
	var marks plotter.XYLabels
	for i, s := range Summarize(rep) {
		if s.Images == 0 {
			continue
		}
		// NominalY puts the first name at the bottom; reverse so the table's first row is
		// on top. The project's own coders get a second, colored bar chart.
		o := 0.0
		if rep.Codecs[i].Own {
			o = s.MeanBitsPerDim
		}
		labels = append([]string{s.Label}, labels...)
		values = append(plotter.Values{s.MeanBitsPerDim}, values...)
		own = append(plotter.Values{o}, own...)
	}
	if len(values) == 0 {
		return errors.New("bench: nothing to plot: no codec coded any image")
	}
	for i, v := range values {
		marks.XYs = append(marks.XYs, plotter.XY{X: v, Y: float64(i)})
		marks.Labels = append(marks.Labels, " "+ftoa(v, 3))
	}

	n := 0
	for _, im := range rep.Images {
		if im.Err == "" {
			n++
		}
	}
	p := plot.New()
	crop := ", cropped to multiples of 32"
	if !rep.Cropped {
		crop = ""
	}
	p.Title.Text = fmt.Sprintf("Lossless compression: mean bits/dim over %d image(s)%s (lower is better)", n, crop)
	p.X.Label.Text = "bits per subpixel"
	p.X.Min = 0

	bars, err := plotter.NewBarChart(values, vg.Points(14))
	if err != nil {
		return err
	}
	bars.Horizontal = true
	bars.Color = color.Gray{Y: 110}
	bars.LineStyle.Width = 0
	p.Add(bars)
	ownBars, err := plotter.NewBarChart(own, vg.Points(14))
	if err != nil {
		return err
	}
	ownBars.Horizontal = true
	ownBars.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	ownBars.LineStyle.Width = 0
	p.Add(ownBars)
	text, err := plotter.NewLabels(marks)
	if err != nil {
		return err
	}
	for i := range text.TextStyle {
		text.TextStyle[i].YAlign = -0.5
	}
	p.Add(text)
	p.NominalY(labels...)
	// Room for the value labels to the right of the longest bar.
	_, xmax, _, _ := bars.DataRange()
	p.X.Max = xmax * 1.15

	height := vg.Points(float64(90 + 26*len(values)))
	wt, err := p.WriterTo(8*vg.Inch, height, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
