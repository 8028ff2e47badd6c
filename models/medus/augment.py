"""Ultrasound-minded augmentation on whole batches, as tensor ops so it runs on CPU or GPU alike:
scale/crop, small rotation, horizontal flip, gamma and contrast, speckle noise, blur."""
import math

import torch
import torch.nn.functional as F

from .prompts import mask_boxes_t


def augment(images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator):
    """images float [B,1,S,S] in 0..1, masks float {0,1} [B,1,S,S]; returns augmented copies."""
    b, dev = images.shape[0], images.device

    def u(lo, hi):
        return (torch.rand(b, generator=gen, device=gen.device) * (hi - lo) + lo).to(dev)

    scale = torch.exp(u(math.log(0.8), math.log(1.25)))
    angle = u(-12, 12) * math.pi / 180
    flip = torch.where(torch.rand(b, generator=gen, device=gen.device) < 0.5, -1.0, 1.0).to(dev)
    tx, ty = u(-0.1, 0.1), u(-0.1, 0.1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    masks = (F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5).float()

    gamma = torch.exp(u(math.log(0.7), math.log(1.5))).view(b, 1, 1, 1)
    images = images.clamp(0, 1) ** gamma
    contrast, bright = u(0.75, 1.25).view(b, 1, 1, 1), u(-0.08, 0.08).view(b, 1, 1, 1)
    mean = images.mean(dim=(2, 3), keepdim=True)
    images = (images - mean) * contrast + mean + bright
    # Speckle: multiplicative noise, slightly correlated like real speckle.
    sigma = u(0.0, 0.18).view(b, 1, 1, 1)
    noise = torch.randn(images.shape, generator=gen, device=gen.device).to(dev)
    noise = F.avg_pool2d(noise, 3, stride=1, padding=1) * 2.0
    images = images * (1 + sigma * noise)
    # Blur a third of the batch with a 5x5 Gaussian.
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=dev)
    k = (k[:, None] * k[None, :]) / 256.0
    blurred = F.conv2d(F.pad(images, (2, 2, 2, 2), mode="replicate"), k.view(1, 1, 5, 5))
    sel = (torch.rand(b, generator=gen, device=gen.device) < 0.33).to(dev).view(b, 1, 1, 1).float()
    images = sel * blurred + (1 - sel) * images
    return images.clamp(0, 1), masks


def zoom_to_target(images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator, p: float = 0.25):
    """Crops a share of the batch to its target's box plus a random margin, stretched back to S×S.

    The app's zoom refinement re-encodes such a crop of the original image (automatic mode, small
    targets); training on the same framing keeps that second pass in distribution. Whole-batch
    tensor ops: no per-image loop or host sync besides one "anything to do?" check."""
    b, _, s, _ = masks.shape
    dev = images.device
    m = masks[:, 0] > 0.5
    pick = (torch.rand(b, generator=gen, device=gen.device).to(dev) < p) & m.flatten(1).any(dim=1)
    margin = 1.15 + 0.45 * torch.rand(b, generator=gen, device=gen.device).to(dev)
    jit = (torch.rand(b, 2, generator=gen, device=gen.device).to(dev) - 0.5) * 0.1
    if not bool(pick.any()):
        return images, masks
    box = mask_boxes_t(m)
    w = ((box[:, 2] - box[:, 0]) * margin).clamp(16.0, float(s))
    h = ((box[:, 3] - box[:, 1]) * margin).clamp(16.0, float(s))
    cx = (box[:, 0] + box[:, 2]) / 2 + jit[:, 0] * w
    cy = (box[:, 1] + box[:, 3]) / 2 + jit[:, 1] * h
    # affine_grid works in [-1, 1]: output covers the crop's centre ± half its size; identity where not picked
    one, zero = torch.ones_like(w), torch.zeros_like(w)
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = torch.where(pick, w / s, one)
    theta[:, 1, 1] = torch.where(pick, h / s, one)
    theta[:, 0, 2] = torch.where(pick, 2 * cx / s - 1, zero)
    theta[:, 1, 2] = torch.where(pick, 2 * cy / s - 1, zero)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    zoomed = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    zmasks = (F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5).float()
    sel = pick.view(-1, 1, 1, 1)
    return torch.where(sel, zoomed, images), torch.where(sel, zmasks, masks)
