package dataset

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestRelatedScenes(t *testing.T) {
	for _, tc := range []struct {
		k       int
		overlap float64
	}{
		{1, 0}, {2, 1}, {8, 1}, {8, 0.9}, {8, 0.5}, {8, 0}, {32, 0}, {32, 0.25}, {5, 0.6},
	} {
		for seed := uint64(0); seed < 20; seed++ {
			sc, err := RelatedScenes(seed, tc.k, tc.overlap)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc) != tc.k {
				t.Fatalf("k=%d: %d scenes", tc.k, len(sc))
			}
			n := len(sc[0].Objects)
			var kept float64
			for i := range sc {
				if len(sc[i].Objects) < 1 || len(sc[i].Objects) > RelatedObjects {
					t.Fatalf("scene %d has %d objects", i, len(sc[i].Objects))
				}
				for j := range sc {
					if i == j {
						continue
					}
					c := CommonObjects(&sc[i], &sc[j])
					switch {
					case tc.overlap == 1 && (c != n || !bytes.Equal(sc[i].Pixels, sc[j].Pixels) || sc[i].Caption != sc[j].Caption):
						t.Fatalf("overlap 1, seed %d: scenes %d and %d share %d of %d objects", seed, i, j, c, n)
					case tc.overlap == 0 && c != 0:
						t.Fatalf("overlap 0, seed %d: scenes %d and %d share %d objects", seed, i, j, c)
					}
				}
				if tc.k > 1 {
					kept += float64(CommonObjects(&sc[i], &sc[(i+1)%tc.k]))
				}
			}
			// The mean share in common is the overlap asked for, to one object in k
			// (the rounding of the extra objects) when every object found a place.
			if tc.k > 1 && n == RelatedObjects && tc.overlap > 0 && tc.overlap < 1 {
				mean := kept / float64(tc.k) / RelatedObjects
				if d := mean - tc.overlap; d > 1.0/RelatedObjects || d < -1.0/RelatedObjects {
					t.Errorf("k=%d overlap %v seed %d: mean share in common %.3f", tc.k, tc.overlap, seed, mean)
				}
			}
		}
	}
}

func TestRelatedScenesDeterministic(t *testing.T) {
	a, _ := RelatedScenes(7, 8, 0.5)
	b, _ := RelatedScenes(7, 8, 0.5)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same arguments, different scenes")
	}
	c, _ := RelatedScenes(8, 8, 0.5)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same scenes")
	}
}

func TestRelatedScenesBadInput(t *testing.T) {
	for _, tc := range []struct {
		k       int
		overlap float64
		want    string
	}{
		{0, 0.5, "k = 0"}, {MaxRelatedScenes + 1, 0.5, "k = 1025"}, {4, -0.1, "overlap"}, {4, 1.5, "overlap"},
	} {
		_, err := RelatedScenes(1, tc.k, tc.overlap)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("k=%d overlap=%v: error %v, want one naming %q", tc.k, tc.overlap, err, tc.want)
		}
	}
}
