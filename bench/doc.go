// Package bench compares the codec's coders with general-purpose lossless codecs (gzip, bzip2
// and LZMA on the raw pixel bytes, PNG, and with the nodynamic build tag lossless WebP and
// JPEG XL): it runs every codec on every image, checks that each decodes the image back
// exactly, and reports bits/dim, compression ratio and encode/decode times per image and per
// codec, with the model's -ELBO for coders that have one, as a table, CSV, JSON or a plot.
// It is the engine of `bitswap bench` (docs/bench.md).
package bench
