"""Coefficients of fnp-core's float32 exp and log polynomials
(fnp-core/src/ufunc/vmath.rs).

Weighted minimax fits by Lawson's iteration (iteratively reweighted least
squares) in float64, then each coefficient rounded to float32 in turn, from
the lowest, with the remaining ones refitted. Needs only NumPy:

    python3 tools/vmath-fit/fit.py log 8    # L2..L9
    python3 tools/vmath-fit/fit.py exp 5    # E2..E6

Prints the weighted error bound and the float32 bits of each coefficient.
"""

import sys

import numpy as np


def series(z, coeff, terms=40):
    """sum_{n>=2} coeff(n) z^(n-2), for small |z| (no cancellation)."""
    s = np.zeros_like(z)
    for n in range(terms, 1, -1):
        s = s * z + coeff(n)
    return s


def log_target(f):
    """(log1p(f) - f) / f^2, and the weight that turns its error into
    units of the result: f^2 / |e ln2 + log1p(f)| at the worst e."""
    out = np.empty_like(f)
    small = np.abs(f) < 1e-2
    out[small] = series(f[small], lambda n: (-1) ** (n + 1) / n)
    fl = f[~small]
    out[~small] = (np.log1p(fl) - fl) / fl**2
    return out, np.maximum(np.abs(f), f**2 / 0.34)


def exp_target(r):
    """(exp(r) - 1 - r) / r^2, weighted by r^2 / exp(r) (the error in
    units of the result)."""
    out = np.empty_like(r)
    small = np.abs(r) < 1e-2
    fact = [1.0]
    for n in range(1, 60):
        fact.append(fact[-1] * n)
    out[small] = series(r[small], lambda n: 1.0 / fact[n])
    rl = r[~small]
    out[~small] = (np.expm1(rl) - rl) / rl**2
    return out, r**2 / np.exp(r)


def lawson(V, target, w, rounds=300):
    u = np.full(len(target), 1.0 / len(target))
    for _ in range(rounds):
        W = np.sqrt(u) * w
        c, *_ = np.linalg.lstsq(V * W[:, None], target * W, rcond=None)
        err = np.abs(V @ c - target) * w
        u = u * err
        u /= u.sum()
    return c


def main():
    name, count = sys.argv[1], int(sys.argv[2])
    if name == "log":
        lo, hi, target_of, first = np.sqrt(0.5) - 1, np.sqrt(2) - 1, log_target, "L"
    else:
        # |r| <= ln2/2, and a little more for the rounding of k.
        lo, hi, target_of, first = -0.3467, 0.3467, exp_target, "E"
    n = 20000
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    z = (lo + hi) / 2 + (hi - lo) / 2 * t
    target, w = target_of(z)
    V = np.vander(z, count, increasing=True)
    c = lawson(V, target, w)
    print("float64 fit: weighted error 2^%.2f" % np.log2((np.abs(V @ c - target) * w).max()))
    fixed = []
    for i in range(count):
        fixed.append(float(np.float32(c[i])))
        if i + 1 < count:
            rest = target - V[:, : i + 1] @ np.array(fixed)
            c = np.concatenate([fixed, lawson(V[:, i + 1 :], rest, w)])
    err = np.abs(V @ np.array(fixed) - target) * w
    print("float32 coefficients: weighted error 2^%.2f" % np.log2(err.max()))
    for i, ci in enumerate(fixed):
        print("%s%d 0x%08x %r" % (first, i + 2, np.float32(ci).view(np.uint32), ci))


if __name__ == "__main__":
    main()
