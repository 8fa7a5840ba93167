package dataset

import (
	"bytes"
	"testing"
)

// The vector renderer agrees with the generator wherever a pixel lies wholly inside
// or outside an object (a 3x3 neighbourhood covered by one object, or by none), and
// everywhere with RenderScene's 8x8 supersampling, an independent estimate of the
// same coverage: per pixel within 32 of 255 (a straight edge costs the 8x8 grid up
// to half a sample per row, 1/16 of the pixel, and an apex has two edges) and
// within 1 on the mean.
func TestDrawSceneVector(t *testing.T) {
	var sum, n float64
	for i := range uint64(200) {
		sc := GenerateScene(SceneTest.Seed(i))
		got := DrawSceneVector(nil, sc.Objects)
		ss := RenderScene(nil, sc.Objects, Perturbation{Antialias: 8}, 0)
		for j := range got {
			d := int(got[j]) - int(ss[j])
			if d < -32 || d > 32 {
				t.Fatalf("scene %d, byte %d: vector %d, 8x8 supersampled %d", i, j, got[j], ss[j])
			}
			sum += float64(max(d, -d))
			n++
		}
		for y := range SceneSize {
			for x := range SceneSize {
				whole := -1 // the one object covering the neighbourhood; -2: none, -3: mixed
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						by := -2
						for k, o := range sc.Objects {
							if o.covers(x+dx, y+dy) {
								by = k
							}
						}
						if whole == -1 {
							whole = by
						} else if whole != by {
							whole = -3
						}
					}
				}
				j := (y*SceneSize + x) * 3
				if whole != -3 && !bytes.Equal(got[j:j+3], sc.Pixels[j:j+3]) {
					t.Fatalf("scene %d: pixel (%d,%d) is %v, generator %v", i, x, y, got[j:j+3], sc.Pixels[j:j+3])
				}
			}
		}
	}
	if mean := sum / n; mean > 1 {
		t.Errorf("mean difference to 8x8 supersampling %.2f levels, want at most 1", mean)
	}
	sq := []Object{{Square, Red, Large, 5, 5}, {Square, Gray, Small, 20, 20}}
	if !bytes.Equal(DrawSceneVector(nil, sq), RenderScene(nil, sq, Perturbation{}, 0)) {
		t.Error("squares, whose edges lie on pixel borders, differ from the generator's")
	}
}
