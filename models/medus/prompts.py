"""Prompt simulation as SAM / SAMUS / MedSAM train: jittered boxes, clicks inside and outside the
target, clicks placed on the error region of the previous prediction, and automatic mode."""
from typing import List, Tuple

import numpy as np

PAD = -1.0
NEG, POS, BOX_TL, BOX_BR = 0.0, 1.0, 2.0, 3.0


def jittered_box(mask: np.ndarray, rng: np.random.Generator) -> Tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    w, h = x1 - x0, y1 - y0
    s = mask.shape[0]
    jit = lambda side: float(np.clip(rng.normal(0, 0.08 * side), -20, 20))
    bx0 = np.clip(x0 + jit(w), 0, s - 1)
    by0 = np.clip(y0 + jit(h), 0, s - 1)
    bx1 = np.clip(x1 + jit(w), bx0 + 1, s)
    by1 = np.clip(y1 + jit(h), by0 + 1, s)
    return float(bx0), float(by0), float(bx1), float(by1)


def random_pixel(region: np.ndarray, rng: np.random.Generator) -> Tuple[float, float]:
    ys, xs = np.nonzero(region)
    k = rng.integers(len(xs))
    return float(xs[k]), float(ys[k])


def interior(mask: np.ndarray) -> np.ndarray:
    """Pixels a few steps inside the mask (a cheap erosion), where a user would click."""
    m = mask.astype(bool)
    e = m.copy()
    for _ in range(3):
        e[1:, :] &= e[:-1, :].copy()
        e[:-1, :] &= e[1:, :].copy()
        e[:, 1:] &= e[:, :-1].copy()
        e[:, :-1] &= e[:, 1:].copy()
    return e if e.any() else m


def initial_prompt(mask: np.ndarray, mode: str, rng: np.random.Generator) -> List[Tuple[float, float, float]]:
    """Returns (x, y, label) triples in model-input pixels."""
    if mode == "auto" or not mask.any():
        return [(0.0, 0.0, PAD)]
    if mode == "box":
        x0, y0, x1, y1 = jittered_box(mask, rng)
        pts = [(x0, y0, BOX_TL), (x1, y1, BOX_BR)]
        if rng.random() < 0.25:  # box plus a click
            x, y = random_pixel(interior(mask), rng)
            pts.append((x, y, POS))
        return pts
    # clicks: one positive inside, sometimes more positives and negatives
    x, y = random_pixel(interior(mask), rng)
    pts = [(x, y, POS)]
    extra = rng.integers(0, 3) if rng.random() < 0.4 else 0
    for _ in range(extra):
        if rng.random() < 0.6:
            x, y = random_pixel(interior(mask), rng)
            pts.append((x, y, POS))
        else:
            outside = ~mask.astype(bool)
            if outside.any():
                x, y = random_pixel(outside, rng)
                pts.append((x, y, NEG))
    return pts


def error_click(pred: np.ndarray, mask: np.ndarray, rng: np.random.Generator):
    """A click on the larger error region of the previous prediction (SAM's iterative training)."""
    fn = mask.astype(bool) & ~pred
    fp = pred & ~mask.astype(bool)
    if not fn.any() and not fp.any():
        return None
    if fn.sum() >= fp.sum():
        x, y = random_pixel(interior(fn), rng)
        return (x, y, POS)
    x, y = random_pixel(interior(fp), rng)
    return (x, y, NEG)


def pack(prompts: List[List[Tuple[float, float, float]]]):
    """Pads a batch of prompts to one length with label -1 and always ends with one padding
    point, as SAM's ONNX convention (and the app) does when no box is given."""
    n = max(len(p) for p in prompts) + 1
    coords = np.zeros((len(prompts), n, 2), np.float32)
    labels = np.full((len(prompts), n), PAD, np.float32)
    for i, p in enumerate(prompts):
        for j, (x, y, lab) in enumerate(p):
            coords[i, j] = (x, y)
            labels[i, j] = lab
    return coords, labels
