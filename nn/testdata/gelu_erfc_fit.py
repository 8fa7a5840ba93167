#!/usr/bin/env python3
"""Fits the polynomial of gelu32's erfc (nn/elementwise.go).

erfc(z) = t exp(-z^2) Q(t), t = 1/(1 + P z), z >= 0, with Q a polynomial of degree
DEG in t, fitted for the least maximum relative error over z in [0, ZMAX] (beyond
ZMAX exp(-z^2) underflows float32's exp32 range and gelu32 returns 0) by Lawson's
iteratively reweighted least squares on a grid of t. Prints the coefficients of Q,
constant first, and the worst relative error of the fit.

    python3 nn/testdata/gelu_erfc_fit.py     (needs numpy: apt-get install python3-numpy)
"""
import math

import numpy as np

P, DEG, ZMAX = 0.3, 8, 10.3


def target(t):
    z = (1 / t - 1) / P
    return np.array([math.erfc(v) * math.exp(v * v) for v in z]) / t


def fit(iters=60):
    t = np.linspace(1 / (1 + P * ZMAX), 1, 20000)
    f = target(t)
    v = np.vander(t, DEG + 1, increasing=True)
    w = np.ones_like(t)
    best = None
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(v * (w / f)[:, None], w, rcond=None)
        r = np.abs(v @ c - f) / f
        if best is None or r.max() < best[1]:
            best = (c, r.max())
        w = w * np.sqrt(r / r.max()) + 1e-12
        w /= w.max()
    return best


if __name__ == "__main__":
    c, err = fit()
    print(", ".join("%.17g" % x for x in c))
    print("max relative error %.3g" % err)
