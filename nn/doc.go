// Package nn is a small reverse-mode automatic differentiation engine on gonum's BLAS
// (float32), with the layers, optimisers and safetensors I/O that m4sc's models need.
//
// Not built yet: this file holds the place in the layout (issue 3). It knows nothing of
// radios.
package nn
