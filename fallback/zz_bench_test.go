package fallback

import (
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
)

func BenchmarkEncodePath(b *testing.B) {
	img, _, err := imageio.DecodeFile(filepath.Join("..", "data", "wallpapers", "val", "plasma-workspace-wallpapers__wallpapers_Path_contents_images_2560x1600.jpg"), nil)
	if err != nil {
		b.Fatal(err)
	}
	img = centerCrop(img, 1024)
	b.SetBytes(int64(img.Width * img.Height * 3))
	for i := 0; i < b.N; i++ {
		Encode(nil, img.Planes, img.Width, img.Height, img.Depth)
	}
}
