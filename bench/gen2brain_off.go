//go:build !nodynamic

package bench

// Without the nodynamic build tag the WebP and JPEG XL baselines are left out: importing
// gen2brain/webp or gen2brain/jpegxl in such a build would make their package init try to
// dlopen a system libwebp / libjxl (see gen2brain.go).

func init() {
	const why = "needs a build with -tags nodynamic"
	unavailable["webp"] = why
	unavailable["jxl"] = why
}
