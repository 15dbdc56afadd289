package bench

// Summary aggregates one codec's results over the images it coded exactly.
type Summary struct {
	Key, Label string
	// Images is the number of images the codec round-tripped exactly; Failed the number of
	// its results with an error (images that could not be loaded are not counted).
	Images, Failed int
	// MeanBitsPerDim is the mean of the per-image bits/dim: every image weighs the same.
	MeanBitsPerDim float64
	// WeightedBitsPerDim is total bits over total subpixels: every pixel weighs the same.
	WeightedBitsPerDim float64
	// Ratio is total raw bytes over total compressed bytes.
	Ratio float64
	// Cores is the number of cores the codec ran on (CodecInfo.Cores).
	Cores int
	// Bytes and Dims are the totals behind the weighted figures.
	Bytes, Dims int64
	// EncodeSeconds and DecodeSeconds are totals.
	EncodeSeconds, DecodeSeconds float64
	// MeanNegELBO is the mean of the per-image −ELBO in bits/dim, when HasNegELBO.
	MeanNegELBO float64
	HasNegELBO  bool
}

// Summarize returns one Summary per codec of the report, in row order.
func Summarize(rep *Report) []Summary {
	out := make([]Summary, len(rep.Codecs))
	idx := map[string]int{}
	for i, c := range rep.Codecs {
		out[i] = Summary{Key: c.Key, Label: c.Label, Cores: c.Cores}
		idx[c.Key] = i
	}
	elboN := make([]int, len(out))
	for _, r := range rep.Results {
		i, ok := idx[r.Key]
		if !ok || r.Codec == "" {
			continue
		}
		s := &out[i]
		if !r.OK() {
			s.Failed++
			continue
		}
		s.Images++
		s.MeanBitsPerDim += r.BitsPerDim
		s.Bytes += int64(r.Bytes)
		s.Dims += int64(r.Width) * int64(r.Height) * int64(r.Channels)
		s.EncodeSeconds += r.EncodeSeconds
		s.DecodeSeconds += r.DecodeSeconds
		if r.HasNegELBO {
			s.MeanNegELBO += r.NegELBO
			elboN[i]++
		}
	}
	for i := range out {
		s := &out[i]
		if s.Images > 0 {
			s.MeanBitsPerDim /= float64(s.Images)
		}
		if s.Dims > 0 && s.Bytes > 0 {
			s.WeightedBitsPerDim = 8 * float64(s.Bytes) / float64(s.Dims)
			s.Ratio = float64(s.Dims) / float64(s.Bytes)
		}
		if elboN[i] > 0 {
			s.MeanNegELBO /= float64(elboN[i])
			s.HasNegELBO = true
		}
	}
	return out
}
