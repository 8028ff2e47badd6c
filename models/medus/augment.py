"""Ultrasound-minded augmentation on whole batches, as tensor ops so it runs on CPU or GPU alike:
scale/crop, small rotation, horizontal flip, gamma and contrast, speckle noise, blur."""
import math

import torch
import torch.nn.functional as F


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
    targets); training on the same framing keeps that second pass in distribution."""
    b, _, s, _ = masks.shape
    dev = images.device
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    pick = (torch.rand(b, generator=gen, device=gen.device) < p).tolist()
    any_y = masks[:, 0].amax(dim=2) > 0.5  # [B, S] rows with target
    any_x = masks[:, 0].amax(dim=1) > 0.5
    changed = False
    for j in range(b):
        if not pick[j] or not any_y[j].any():
            continue
        ys = torch.nonzero(any_y[j])[:, 0]
        xs = torch.nonzero(any_x[j])[:, 0]
        x0, x1, y0, y1 = xs[0].item(), xs[-1].item() + 1, ys[0].item(), ys[-1].item() + 1
        margin = 1.15 + 0.45 * torch.rand(1, generator=gen, device=gen.device).item()
        jit = (torch.rand(2, generator=gen, device=gen.device) - 0.5) * 0.1
        w = min(s, max(16.0, (x1 - x0) * margin))
        h = min(s, max(16.0, (y1 - y0) * margin))
        cx = (x0 + x1) / 2 + jit[0].item() * w
        cy = (y0 + y1) / 2 + jit[1].item() * h
        # affine_grid works in [-1, 1]: output covers the crop's centre ± half its size
        theta[j, 0, 0] = w / s
        theta[j, 1, 1] = h / s
        theta[j, 0, 2] = 2 * cx / s - 1
        theta[j, 1, 2] = 2 * cy / s - 1
        changed = True
    if not changed:
        return images, masks
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    masks = (F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5).float()
    return images, masks
