package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CSVColumns are the columns of WriteCSV, in order; JSON rows use the same keys.
//
//	image           file name of the image
//	width, height   coded size in pixels (after cropping, unless uncropped)
//	channels        1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
//	codec           row label (names the implementation and settings)
//	bytes           compressed size in bytes
//	bits_per_dim    8*bytes / (width*height*channels)
//	ratio           width*height*channels / bytes (raw 8-bit size over compressed size)
//	cores           cores (goroutines at once) the codec ran on: 1 for the baselines, the
//	                coder workers for the codec package's coders
//	encode_seconds  wall-clock encode time
//	decode_seconds  wall-clock decode time
//	neg_elbo_bpd    the model's −ELBO in bits/dim; empty (JSON: null) when the codec has none
//	ok              true when the image decoded back exactly
//	error           why not, empty when ok
//
// An image that could not be loaded gives one row with an empty codec, ok=false and the error.
var CSVColumns = []string{"image", "width", "height", "channels", "codec", "bytes", "bits_per_dim",
	"ratio", "cores", "encode_seconds", "decode_seconds", "neg_elbo_bpd", "ok", "error"}

func ftoa(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// WriteCSV writes one line per result with the CSVColumns header.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, r := range rep.Results {
		rec := make([]string, 0, len(CSVColumns))
		rec = append(rec, r.Image)
		if r.Codec == "" {
			rec = append(rec, "", "", "", "", "", "", "", "", "", "", "")
		} else {
			elbo := ""
			if r.HasNegELBO {
				elbo = ftoa(r.NegELBO, 6)
			}
			rec = append(rec, strconv.Itoa(r.Width), strconv.Itoa(r.Height), strconv.Itoa(r.Channels), r.Codec,
				strconv.Itoa(r.Bytes), ftoa(r.BitsPerDim, 6), ftoa(r.Ratio, 6), strconv.Itoa(r.Cores),
				ftoa(r.EncodeSeconds, 6), ftoa(r.DecodeSeconds, 6), elbo)
		}
		rec = append(rec, strconv.FormatBool(r.OK()), oneLine(r.Err))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonRow is a Result in the CSV's columns.
type jsonRow struct {
	Image         string   `json:"image"`
	Width         int      `json:"width"`
	Height        int      `json:"height"`
	Channels      int      `json:"channels"`
	Codec         string   `json:"codec"`
	Bytes         int      `json:"bytes"`
	BitsPerDim    float64  `json:"bits_per_dim"`
	Ratio         float64  `json:"ratio"`
	Cores         int      `json:"cores"`
	EncodeSeconds float64  `json:"encode_seconds"`
	DecodeSeconds float64  `json:"decode_seconds"`
	NegELBO       *float64 `json:"neg_elbo_bpd"`
	OK            bool     `json:"ok"`
	Error         string   `json:"error"`
}

type jsonSummary struct {
	Codec              string   `json:"codec"`
	Key                string   `json:"key"`
	Images             int      `json:"images"`
	Failed             int      `json:"failed"`
	MeanBitsPerDim     float64  `json:"mean_bits_per_dim"`
	WeightedBitsPerDim float64  `json:"weighted_bits_per_dim"`
	Ratio              float64  `json:"ratio"`
	Cores              int      `json:"cores"`
	EncodeSeconds      float64  `json:"encode_seconds"`
	DecodeSeconds      float64  `json:"decode_seconds"`
	MeanNegELBO        *float64 `json:"mean_neg_elbo_bpd"`
}

type jsonCodec struct {
	Key        string `json:"key"`
	Codec      string `json:"codec"`
	HasNegELBO bool   `json:"has_neg_elbo"`
	Cores      int    `json:"cores"`
}

type jsonReport struct {
	Cropped bool          `json:"cropped_to_32"`
	Codecs  []jsonCodec   `json:"codecs"`
	Rows    []jsonRow     `json:"rows"`
	Summary []jsonSummary `json:"summary"`
}

// WriteJSON writes the report as one JSON object: "cropped_to_32", "codecs" (key, codec label,
// has_neg_elbo, cores), "rows" (one object per result with the CSVColumns as keys) and
// "summary" (one object per codec: codec, key, images, failed, mean_bits_per_dim,
// weighted_bits_per_dim, ratio, cores, encode_seconds, decode_seconds, mean_neg_elbo_bpd).
func WriteJSON(w io.Writer, rep *Report) error {
	out := jsonReport{Cropped: rep.Cropped, Codecs: []jsonCodec{}, Rows: []jsonRow{}, Summary: []jsonSummary{}}
	for _, c := range rep.Codecs {
		out.Codecs = append(out.Codecs, jsonCodec{Key: c.Key, Codec: c.Label, HasNegELBO: c.HasNegELBO, Cores: c.Cores})
	}
	for _, r := range rep.Results {
		jr := jsonRow{Image: r.Image, Width: r.Width, Height: r.Height, Channels: r.Channels, Codec: r.Codec,
			Bytes: r.Bytes, BitsPerDim: r.BitsPerDim, Ratio: r.Ratio, Cores: r.Cores, EncodeSeconds: r.EncodeSeconds,
			DecodeSeconds: r.DecodeSeconds, OK: r.OK(), Error: r.Err}
		if r.HasNegELBO {
			v := r.NegELBO
			jr.NegELBO = &v
		}
		out.Rows = append(out.Rows, jr)
	}
	for _, s := range Summarize(rep) {
		js := jsonSummary{Codec: s.Label, Key: s.Key, Images: s.Images, Failed: s.Failed,
			MeanBitsPerDim: s.MeanBitsPerDim, WeightedBitsPerDim: s.WeightedBitsPerDim, Ratio: s.Ratio,
			Cores: s.Cores, EncodeSeconds: s.EncodeSeconds, DecodeSeconds: s.DecodeSeconds}
		if s.HasNegELBO {
			v := s.MeanNegELBO
			js.MeanNegELBO = &v
		}
		out.Summary = append(out.Summary, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// table lays out rows of cells in aligned columns separated by two spaces. right[i] aligns
// column i to the right. A row with a single cell (a section heading) is printed as it is and
// does not widen the first column.
type table struct {
	right []bool
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	var width []int
	for _, r := range t.rows {
		if len(r) == 1 {
			continue
		}
		for i, c := range r {
			for len(width) <= i {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		if len(r) == 1 {
			b.WriteString(r[0])
			b.WriteByte('\n')
			continue
		}
		line := make([]string, len(r))
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < len(t.right) && t.right[i] {
				line[i] = pad + c
			} else if i < len(r)-1 {
				line[i] = c + pad
			} else {
				line[i] = c
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteTable writes the per-image rows and the per-codec summary as aligned text.
func WriteTable(w io.Writer, rep *Report) error {
	elbo := false
	for _, c := range rep.Codecs {
		elbo = elbo || c.HasNegELBO
	}
	head := []string{"image / codec", "bytes", "bits/dim", "ratio", "cores", "enc s", "dec s"}
	if elbo {
		head = append(head, "-ELBO bpd")
	}
	head = append(head, "status")
	// Numbers right-aligned; the label and the status left.
	t := &table{right: make([]bool, len(head))}
	for i := 1; i < len(head)-1; i++ {
		t.right[i] = true
	}
	t.add(head...)
	// Results come in image order, each image's rows together: one row for an image that
	// failed to load, one per codec otherwise.
	next := 0
	take := func(n int) []Result {
		n = min(n, len(rep.Results)-next)
		rs := rep.Results[next : next+n]
		next += n
		return rs
	}
	for _, im := range rep.Images {
		if im.Err != "" {
			take(1)
			t.add(fmt.Sprintf("%s: ERROR %s", im.Name, oneLine(im.Err)))
			continue
		}
		geo := fmt.Sprintf("%dx%dx%d", im.Width, im.Height, im.Channels)
		if im.Width != im.OrigWidth || im.Height != im.OrigHeight {
			geo += fmt.Sprintf(", cropped from %dx%d", im.OrigWidth, im.OrigHeight)
		}
		t.add(fmt.Sprintf("%s (%s)", im.Name, geo))
		for _, r := range take(len(rep.Codecs)) {
			status := "ok"
			if !r.OK() {
				status = "ERROR " + oneLine(r.Err)
			}
			bytes, bpd, ratio := "-", "-", "-"
			if r.Bytes > 0 {
				bytes, bpd, ratio = strconv.Itoa(r.Bytes), ftoa(r.BitsPerDim, 3), ftoa(r.Ratio, 2)
			}
			row := []string{"  " + r.Codec, bytes, bpd, ratio, strconv.Itoa(r.Cores), ftoa(r.EncodeSeconds, 2), ftoa(r.DecodeSeconds, 2)}
			if elbo {
				e := ""
				if r.HasNegELBO {
					e = ftoa(r.NegELBO, 3)
				}
				row = append(row, e)
			}
			t.add(append(row, status)...)
		}
	}
	if err := t.write(w); err != nil {
		return err
	}
	return writeSummary(w, rep, elbo)
}

func writeSummary(w io.Writer, rep *Report, elbo bool) error {
	n := 0
	for _, im := range rep.Images {
		if im.Err == "" {
			n++
		}
	}
	crop := "cropped to multiples of 32 from the top-left"
	if !rep.Cropped {
		crop = "uncropped"
	}
	fmt.Fprintf(w, "\nSummary over %d image(s), %s; mean = every image weighs the same, weighted = total bits / total subpixels\n", n, crop)
	head := []string{"codec", "images", "mean bits/dim", "weighted bits/dim", "ratio", "cores", "enc s", "dec s"}
	if elbo {
		head = append(head, "mean -ELBO bpd")
	}
	t := &table{right: make([]bool, len(head))}
	for i := 1; i < len(head); i++ {
		t.right[i] = true
	}
	t.add(head...)
	for _, s := range Summarize(rep) {
		imgs := strconv.Itoa(s.Images)
		if s.Failed > 0 {
			imgs += fmt.Sprintf(" (%d failed)", s.Failed)
		}
		mean, weighted, ratio := "-", "-", "-"
		if s.Images > 0 {
			mean, weighted, ratio = ftoa(s.MeanBitsPerDim, 3), ftoa(s.WeightedBitsPerDim, 3), ftoa(s.Ratio, 2)
		}
		row := []string{s.Label, imgs, mean, weighted, ratio, strconv.Itoa(s.Cores), ftoa(s.EncodeSeconds, 1), ftoa(s.DecodeSeconds, 1)}
		if elbo {
			e := ""
			if s.HasNegELBO {
				e = ftoa(s.MeanNegELBO, 3)
			}
			row = append(row, e)
		}
		t.add(row...)
	}
	return t.write(w)
}

// oneLine folds an error message onto one line for tables and CSV cells.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
