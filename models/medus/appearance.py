"""Scanner appearance: what changes from one hospital's machine to another's, as named, seeded
transforms on batches (float [B,1,S,S] images in 0..1, {0,1} masks).

Two uses: `random_appearance` trains automatic mode's presence decision to hold on scanners the
datasets never saw (gain, contrast, time-gain bands, gamma, speckle, blur, JPEG, depth crops,
sector masks, burned-in text and calipers, flips, tight crops), and `NAMED` applies each one alone
at a fixed, strong setting to a validation or test split for the model card's robustness table.
"""
import io
import math
from typing import Callable, Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .prompts import mask_boxes_t

Batch = Tuple[torch.Tensor, torch.Tensor]


def gain(images, masks, g: torch.Tensor) -> Batch:
    """Overall gain: g < 1 is the darker scanner that broke v1's automatic mode."""
    return (images * g.view(-1, 1, 1, 1)).clamp(0, 1), masks


def contrast(images, masks, c: torch.Tensor) -> Batch:
    mean = images.mean(dim=(2, 3), keepdim=True)
    return ((images - mean) * c.view(-1, 1, 1, 1) + mean).clamp(0, 1), masks


def gamma(images, masks, g: torch.Tensor) -> Batch:
    return images.clamp(1e-4, 1) ** g.view(-1, 1, 1, 1), masks


def tgc_bands(images, masks, amp: torch.Tensor, gen: torch.Generator) -> Batch:
    """Time-gain compensation set unevenly: smooth horizontal bands brighter or darker with depth."""
    b, _, s, _ = images.shape
    y = torch.linspace(0, 1, s).view(1, s)
    centres = torch.rand(b, 3, 1, generator=gen)
    widths = 0.08 + 0.2 * torch.rand(b, 3, 1, generator=gen)
    signs = torch.randn(b, 3, 1, generator=gen).sign()
    profile = (signs * torch.exp(-((y - centres) / widths) ** 2)).sum(dim=1)  # [B,S]
    factor = (1 + amp.view(-1, 1) * profile).clamp(0.2, 2.0)
    return (images * factor.view(b, 1, s, 1)).clamp(0, 1), masks


def speckle(images, masks, sigma: torch.Tensor, gen: torch.Generator) -> Batch:
    noise = F.avg_pool2d(torch.randn(images.shape, generator=gen), 3, stride=1, padding=1) * 2.0
    return (images * (1 + sigma.view(-1, 1, 1, 1) * noise)).clamp(0, 1), masks


def blur(images, masks, sigma: float) -> Batch:
    r = max(1, int(math.ceil(2.5 * sigma)))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    k = k / k.sum()
    out = F.conv2d(F.pad(images, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    out = F.conv2d(F.pad(out, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return out, masks


def jpeg(images, masks, quality: int) -> Batch:
    """Re-encoded at a low JPEG quality, as exported from some scanners and PACS viewers."""
    out = torch.empty_like(images)
    for i in range(images.shape[0]):
        arr = (images[i, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
        out[i, 0] = torch.from_numpy(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=np.float32) / 255.0)
    return out, masks


def _resample(images, masks, theta) -> Batch:
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    im = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    mk = (F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5).float()
    return im, mk


def depth_crop(images, masks, keep: torch.Tensor) -> Batch:
    """A shallower depth setting: only the top `keep` of the frame, stretched to the full height."""
    b = images.shape[0]
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = keep
    theta[:, 1, 2] = keep - 1
    return _resample(images, masks, theta)


def sector(images, masks, half_angle_deg: torch.Tensor) -> Batch:
    """A curvilinear probe's fan: black outside a sector whose apex sits above the frame."""
    b, _, s, _ = images.shape
    yy, xx = torch.meshgrid(torch.linspace(0, 1, s), torch.linspace(-0.5, 0.5, s), indexing="ij")
    ang = torch.atan2(xx, yy + 0.25).abs() * 180 / math.pi  # apex a quarter frame above the top
    fan = (ang.unsqueeze(0) <= half_angle_deg.view(-1, 1, 1)).float().unsqueeze(1)
    return images * fan, masks * fan


def burned_in(images, masks, gen: torch.Generator, n_marks: int = 6) -> Batch:
    """Scanner text, measurement calipers (+) and a depth scale drawn into the pixels."""
    out = images.clone()
    b, _, s, _ = images.shape
    for i in range(b):
        # a line of "text" along the top, a depth scale of ticks along one side, caliper crosses
        row = int(torch.randint(2, max(3, s // 12), (1,), generator=gen))
        x = int(torch.randint(2, s // 3, (1,), generator=gen))
        for _ in range(int(torch.randint(4, 12, (1,), generator=gen))):
            w = int(torch.randint(2, 6, (1,), generator=gen))
            out[i, 0, row : row + 6, x : x + w] = 0.9
            x += w + 2
            if x >= s - 8:
                break
        side = 2 if torch.rand(1, generator=gen) < 0.5 else s - 5
        for t in range(8, s - 8, 16):
            out[i, 0, t, side : side + 3] = 0.85
        for _ in range(n_marks // 2):
            cx, cy = (int(v) for v in torch.randint(6, s - 6, (2,), generator=gen))
            out[i, 0, cy, cx - 4 : cx + 5] = 1.0
            out[i, 0, cy - 4 : cy + 5, cx] = 1.0
    return out, masks


def flip(images, masks) -> Batch:
    return images.flip(-1), masks.flip(-1)


def tight_crop(images, masks, margin: float) -> Batch:
    """Framed tightly on the target (it fills a third or more of the image), as a user zoomed in."""
    b, _, s, _ = masks.shape
    box = mask_boxes_t(masks[:, 0] > 0.5)
    has = (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
    w = ((box[:, 2] - box[:, 0]) * margin).clamp(16.0, float(s))
    h = ((box[:, 3] - box[:, 1]) * margin).clamp(16.0, float(s))
    side = torch.maximum(w, h)
    cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.where(has, side / s, torch.ones(b))
    theta[:, 1, 1] = torch.where(has, side / s, torch.ones(b))
    theta[:, 0, 2] = torch.where(has, 2 * cx / s - 1, torch.zeros(b))
    theta[:, 1, 2] = torch.where(has, 2 * cy / s - 1, torch.zeros(b))
    return _resample(images, masks, theta)


def _full(b: int, v: float) -> torch.Tensor:
    return torch.full((b,), float(v))


# One strong setting each, for the robustness table (applied alone, to every image of a split).
NAMED: Dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Generator], Batch]] = {
    "dark (gain 0.45)": lambda i, m, g: gain(i, m, _full(len(i), 0.45)),
    "low contrast (0.5)": lambda i, m, g: contrast(i, m, _full(len(i), 0.5)),
    "gamma 1.8": lambda i, m, g: gamma(i, m, _full(len(i), 1.8)),
    "gamma 0.6": lambda i, m, g: gamma(i, m, _full(len(i), 0.6)),
    "TGC bands": lambda i, m, g: tgc_bands(i, m, _full(len(i), 0.5), g),
    "speckle": lambda i, m, g: speckle(i, m, _full(len(i), 0.25), g),
    "blur (σ 1.5 px)": lambda i, m, g: blur(i, m, 1.5),
    "JPEG q 25": lambda i, m, g: jpeg(i, m, 25),
    "depth crop (top 75%)": lambda i, m, g: depth_crop(i, m, _full(len(i), 0.75)),
    "sector (±40°)": lambda i, m, g: sector(i, m, _full(len(i), 40.0)),
    "burned-in text, calipers": lambda i, m, g: burned_in(i, m, g),
    "left-right flip": lambda i, m, g: flip(i, m),
    "tight crop (margin 1.3)": lambda i, m, g: tight_crop(i, m, 1.3),
}


def random_appearance(images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator, p: float = 0.35) -> Batch:
    """Each transform with probability p at a random strength (on the CPU; images are small)."""
    b = images.shape[0]

    def u(lo, hi):
        return torch.rand(b, generator=gen) * (hi - lo) + lo

    def on():
        return bool(torch.rand(1, generator=gen) < p)

    if on():
        images, masks = depth_crop(images, masks, u(0.65, 1.0))
    if on():
        images, masks = sector(images, masks, u(30, 55))
    if on():
        images, masks = gain(images, masks, u(0.3, 1.3))
    if on():
        images, masks = contrast(images, masks, u(0.35, 1.3))
    if on():
        images, masks = gamma(images, masks, torch.exp(u(math.log(0.5), math.log(2.2))))
    if on():
        images, masks = tgc_bands(images, masks, u(0.1, 0.7), gen)
    if on():
        images, masks = speckle(images, masks, u(0.05, 0.35), gen)
    if on():
        images, masks = blur(images, masks, float(u(0.6, 2.0)[0]))
    if on():
        images, masks = burned_in(images, masks, gen)
    if on():
        images, masks = jpeg(images, masks, int(u(15, 70)[0]))
    return images.clamp(0, 1), masks
