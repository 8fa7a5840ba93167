package dataset

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/vector"
)

// circleKappa places the control points of a cubic Bezier quarter circle:
// 4/3 (sqrt 2 - 1), the classic approximation (radial error below 0.03%).
const circleKappa = 0.5522847498

// DrawSceneVector appends the ScenePixels bytes of objs drawn by another rasteriser
// than the generator's to dst (8-bit RGB, HWC, as Scene.Pixels) and returns the
// extended slice: golang.org/x/image/vector fills each object's outline with exact
// area coverage (anti-aliased edges) and image/draw composites it over black. The
// outlines are RenderScene's continuous shapes (a square of half-extent r+1/2, a disc
// of radius r+1/2 made of four cubic Beziers, a triangle with its apex r+1/2 above the
// centre and a base 2r+1 wide r+1/2 below it), so what differs from GenerateScene is
// the rendering only: pixels the outline covers in part, and circles from curves.
// It measures how a model trained on one renderer reads another's images.
func DrawSceneVector(dst []uint8, objs []Object) []uint8 {
	img := image.NewRGBA(image.Rect(0, 0, SceneSize, SceneSize))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{A: 255}), image.Point{}, draw.Src)
	z := vector.NewRasterizer(SceneSize, SceneSize)
	for _, o := range objs {
		if o.X < -SceneSize || o.Y < -SceneSize || o.X > 2*SceneSize || o.Y > 2*SceneSize {
			continue
		}
		// The rasteriser's pixel x spans [x, x+1]: the generator's pixel centre
		// (X, Y) is (X+1/2, Y+1/2) here.
		cx, cy := float32(o.X)+0.5, float32(o.Y)+0.5
		e := float32(o.Size.Radius()) + 0.5
		z.Reset(SceneSize, SceneSize)
		switch o.Shape {
		case Square:
			z.MoveTo(cx-e, cy-e)
			z.LineTo(cx+e, cy-e)
			z.LineTo(cx+e, cy+e)
			z.LineTo(cx-e, cy+e)
		case Circle:
			k := e * circleKappa
			z.MoveTo(cx+e, cy)
			z.CubeTo(cx+e, cy+k, cx+k, cy+e, cx, cy+e)
			z.CubeTo(cx-k, cy+e, cx-e, cy+k, cx-e, cy)
			z.CubeTo(cx-e, cy-k, cx-k, cy-e, cx, cy-e)
			z.CubeTo(cx+k, cy-e, cx+e, cy-k, cx+e, cy)
		case Triangle:
			z.MoveTo(cx, cy-e)
			z.LineTo(cx+e, cy+e)
			z.LineTo(cx-e, cy+e)
		default:
			continue
		}
		z.ClosePath()
		r, g, b := o.Color.RGB()
		z.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{r, g, b, 255}), image.Point{})
	}
	n := len(dst)
	dst = append(dst, make([]uint8, ScenePixels)...)
	out := dst[n:]
	for i := range SceneSize * SceneSize {
		copy(out[3*i:3*i+3], img.Pix[4*i:4*i+3])
	}
	return dst
}
