// Package kan builds B-spline Kolmogorov-Arnold Network layers on package nn.
//
// Not built yet: this file holds the place in the layout (issue 3).
package kan
