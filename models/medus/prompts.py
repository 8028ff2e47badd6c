"""Prompt simulation as SAM / SAMUS / MedSAM train: jittered boxes, clicks inside and outside the
target, clicks placed on the error region of the previous prediction, and automatic mode."""
from typing import List, Tuple

import numpy as np
import torch

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


# --- The same simulation on whole batches, as tensor ops on the training device ---------------------
# The per-image functions above cost about 1 ms per image in numpy, which on a GPU was most of each
# training step (batch 128: ~130 of ~175 ms). These do the same on the device, without host syncs.

MODES = ("auto", "box", "click")


def interior_t(masks: torch.Tensor) -> torch.Tensor:
    """`interior` for a batch: bool [B,S,S] eroded three times by a 3x3 square, exactly as the numpy
    version (shifted ANDs, the frame's border does not erode), falling back to the mask itself where
    that leaves nothing. Boolean shifts, not pooling: about ten times cheaper on a CPU."""
    e = masks
    for _ in range(3):
        v = e.clone()
        v[:, 1:, :] &= e[:, :-1, :]
        v[:, :-1, :] &= e[:, 1:, :]
        e = v.clone()
        e[:, :, 1:] &= v[:, :, :-1]
        e[:, :, :-1] &= v[:, :, 1:]
    empty = ~e.flatten(1).any(dim=1)
    return torch.where(empty.view(-1, 1, 1), masks, e)


def random_pixels_t(region: torch.Tensor, gen: torch.Generator, k: int = 1):
    """k pixels drawn uniformly (with replacement) from each region (bool [B,S,S]): float (x, y)
    [B,k,2], and whether the region had any pixel [B]. Inverse-CDF sampling in two stages (which
    row, then which pixel of it), so only per-row counts are summed over the whole image."""
    b, s, _ = region.shape
    rows = region.sum(dim=2, dtype=torch.int32)  # [B, S]
    rcum = rows.cumsum(dim=1, dtype=torch.int32)
    count = rcum[:, -1]
    ok = count > 0
    r = torch.rand(b, k, generator=gen, device=gen.device).to(region.device)
    rank = (r * count.clamp(min=1).view(-1, 1).float()).floor().to(torch.int32).clamp(max=(count.clamp(min=1) - 1).view(-1, 1))
    row = torch.searchsorted(rcum, rank, right=True).clamp(max=s - 1)  # [B, k]
    within = rank - (rcum.gather(1, row) - rows.gather(1, row))
    pixels = region[torch.arange(b, device=region.device).view(-1, 1), row]  # [B, k, S]
    ccum = pixels.cumsum(dim=2, dtype=torch.int32)
    col = torch.searchsorted(ccum, within.unsqueeze(-1), right=True).squeeze(-1).clamp(max=s - 1)
    return torch.stack([col.float(), row.float()], dim=2), ok


def mask_boxes_t(masks: torch.Tensor) -> torch.Tensor:
    """Tight boxes (x0, y0, x1, y1), x1/y1 exclusive, of bool masks [B,S,S] as float [B,4]; zeros where empty."""
    b, s, _ = masks.shape
    idx = torch.arange(s, device=masks.device)
    any_x = masks.any(dim=1)  # [B, S] columns with target
    any_y = masks.any(dim=2)
    big = torch.full_like(idx, s)
    x0 = torch.where(any_x, idx, big).amin(dim=1)
    x1 = torch.where(any_x, idx + 1, torch.zeros_like(idx)).amax(dim=1)
    y0 = torch.where(any_y, idx, big).amin(dim=1)
    y1 = torch.where(any_y, idx + 1, torch.zeros_like(idx)).amax(dim=1)
    box = torch.stack([x0, y0, x1, y1], dim=1).float()
    return torch.where(masks.flatten(1).any(dim=1).view(-1, 1), box, torch.zeros_like(box))


def _normal(n: int, gen: torch.Generator, device) -> torch.Tensor:
    return torch.randn(n, generator=gen, device=gen.device).to(device)


def _uniform(n: int, gen: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=gen.device).to(device)


def initial_prompts_t(masks: torch.Tensor, modes: torch.Tensor, gen: torch.Generator):
    """`initial_prompt` for a batch. masks bool [B,S,S]; modes long [B] indexing MODES. Returns
    coords float [B,4,2], labels float [B,4] (unused slots are padding, label -1, which the model
    ignores wherever they sit) and `lone` bool [B]: a single positive click (SAM's ambiguous case)."""
    b, s, _ = masks.shape
    dev = masks.device
    coords = torch.zeros(b, 4, 2, device=dev)
    labels = torch.full((b, 4), PAD, device=dev)
    has = masks.flatten(1).any(dim=1)
    is_box = (modes == MODES.index("box")) & has
    is_click = (modes == MODES.index("click")) & has
    inner = interior_t(masks)
    # box: the tight box with Gaussian jitter (σ = 8% of its side, at most 20 px), kept inside the frame
    box = mask_boxes_t(masks)
    w = (box[:, 2] - box[:, 0]).clamp(min=1)
    h = (box[:, 3] - box[:, 1]).clamp(min=1)
    jit = lambda side: (_normal(b, gen, dev) * 0.08 * side).clamp(-20, 20)  # noqa: E731
    bx0 = (box[:, 0] + jit(w)).clamp(0, s - 1)
    by0 = (box[:, 1] + jit(h)).clamp(0, s - 1)
    bx1 = torch.minimum(torch.maximum(box[:, 2] + jit(w), bx0 + 1), torch.full_like(bx0, s))
    by1 = torch.minimum(torch.maximum(box[:, 3] + jit(h), by0 + 1), torch.full_like(by0, s))
    inside, _ = random_pixels_t(inner, gen, 3)
    outside, neg_ok = random_pixels_t(~masks, gen, 2)
    first, more_pos, more_pos2 = inside[:, 0], inside[:, 1], inside[:, 2]
    neg, neg2 = outside[:, 0], outside[:, 1]
    box_click = is_box & (_uniform(b, gen, dev) < 0.25)
    # clicks: a positive inside, then with probability 0.4 one or two more (positive inside 60%, else negative outside)
    extra = torch.where(_uniform(b, gen, dev) < 0.4, torch.randint(0, 3, (b,), generator=gen, device=gen.device).to(dev), torch.zeros(b, dtype=torch.long, device=dev))
    pos_a = _uniform(b, gen, dev) < 0.6
    pos_b = _uniform(b, gen, dev) < 0.6

    def put(slot: int, where: torch.Tensor, xy: torch.Tensor, label) -> None:
        lab = label if torch.is_tensor(label) else torch.full((b,), float(label), device=dev)
        coords[:, slot] = torch.where(where.view(-1, 1), xy, coords[:, slot])
        labels[:, slot] = torch.where(where, lab, labels[:, slot])

    put(0, is_box, torch.stack([bx0, by0], 1), BOX_TL)
    put(1, is_box, torch.stack([bx1, by1], 1), BOX_BR)
    put(2, box_click, first, POS)
    put(0, is_click, first, POS)
    for slot, (want, as_pos, pos_xy, neg_xy) in enumerate(((extra >= 1, pos_a, more_pos, neg), (extra >= 2, pos_b, more_pos2, neg2)), start=1):
        # a negative needs background to click on; without any, that click is not made (as in numpy)
        made = is_click & want & (as_pos | neg_ok)
        put(slot, made, torch.where(as_pos.view(-1, 1), pos_xy, neg_xy), torch.where(as_pos, torch.full((b,), POS, device=dev), torch.full((b,), NEG, device=dev)))
    lone = is_click & (extra == 0)
    return coords, labels, lone


def error_clicks_t(pred: torch.Tensor, masks: torch.Tensor, gen: torch.Generator):
    """`error_click` for a batch: a click in the interior of the larger error region of the previous
    answer, positive on a miss, negative on a false alarm; padding where the answer was exact.
    Returns coords [B,1,2] and labels [B,1]."""
    fn = masks & ~pred
    fp = pred & ~masks
    use_fn = fn.flatten(1).sum(dim=1) >= fp.flatten(1).sum(dim=1)
    region = torch.where(use_fn.view(-1, 1, 1), fn, fp)
    xy, ok = random_pixels_t(interior_t(region), gen)  # [B, 1, 2]
    lab = torch.where(use_fn, torch.full_like(ok, POS, dtype=torch.float32), torch.full_like(ok, NEG, dtype=torch.float32))
    lab = torch.where(ok, lab, torch.full_like(lab, PAD))
    return xy, lab.unsqueeze(1)
