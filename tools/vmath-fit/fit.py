"""Coefficients of fnp-core's float32 exp, log, sin and cos polynomials
(fnp-core/src/ufunc/vmath.rs).

Weighted minimax fits by Lawson's iteration (iteratively reweighted least
squares) in float64, then each coefficient rounded to float32 in turn, from
the lowest, with the remaining ones refitted. Needs only NumPy:

    python3 tools/vmath-fit/fit.py log 8    # L2..L9
    python3 tools/vmath-fit/fit.py exp 5    # E2..E6
    python3 tools/vmath-fit/fit.py sin 4 1.5708  # S3..S9 on |r| <= 1.5708
    python3 tools/vmath-fit/fit.py pi 33         # pi in two parts

Prints the weighted error bound and the bits of each coefficient. The sine
(which serves cos too) is evaluated in float64 inside the float32 kernels,
so its coefficients stay float64: a polynomial in z = r^2 on |r| <= pi/2
and a little more for the rounding of k.
"""

import sys
from fractions import Fraction

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


def sin_target(r):
    """(sin(r) - r) / r^3 as a function of z = r^2, weighted by
    r^3 / |sin(r)| (the error in units of the result)."""
    z = r * r
    fact = [1.0]
    for n in range(1, 60):
        fact.append(fact[-1] * n)
    out = np.empty_like(r)
    small = r < 0.1
    # sum_{n>=2} (-1)^(n-1) z^(n-2) / (2n-1)!
    out[small] = series(z[small], lambda n: (-1) ** (n - 1) / fact[2 * n - 1], 20)
    rl = r[~small]
    out[~small] = (np.sin(rl) - rl) / rl**3
    return z, out, r**3 / np.abs(np.sin(r))


def pi_fraction(digits=60):
    """pi to `digits` decimals, exactly as a Fraction (Machin's formula in
    integers)."""
    one = 10 ** (digits + 10)

    def arctan_inv(x):
        total, term, n, sign = 0, one // x, 1, 1
        while term:
            total += sign * (term // n)
            term //= x * x
            n += 2
            sign = -sign
        return total

    return Fraction(4 * (4 * arctan_inv(5) - arctan_inv(239)), one)


def pi_split(bits):
    """pi = PI_1 + PI_2 + tail: PI_1 rounded to `bits` significant bits
    (so k * PI_1 is exact while k has at most 53 - bits), PI_2 the rest
    rounded to float64."""
    pi = pi_fraction()
    # pi is in [2, 4): scale by 2^(bits - 2) and round.
    p1 = Fraction(round(pi * 2 ** (bits - 2)), 2 ** (bits - 2))
    p2 = float(pi - p1)
    tail = pi - p1 - Fraction(p2)
    for name, v in (("PI_1", float(p1)), ("PI_2", p2)):
        print("%s 0x%016x %r" % (name, np.float64(v).view(np.uint64), v))
    print("tail 2^%.1f" % np.log2(abs(float(tail))))


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
    if name == "pi":
        pi_split(count)
        return
    if name == "sin":
        # Chebyshev nodes on (0, bound]: the fit is in z = r^2.
        n = 20000
        t = np.cos(np.pi * (np.arange(n) + 0.5) / (2 * n))
        z, target, w = sin_target(float(sys.argv[3]) * t)
        V = np.vander(z, count, increasing=True)
        c = lawson(V, target, w)
        err = np.abs(V @ c - target) * w
        print("float64 coefficients: weighted error 2^%.2f" % np.log2(err.max()))
        for i, ci in enumerate(c):
            print("S%d 0x%016x %r" % (3 + 2 * i, np.float64(ci).view(np.uint64), float(ci)))
        return
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
