"""Ultrasound-minded augmentation on whole batches, as tensor ops so it runs on CPU or GPU alike:
scale/crop, small rotation, horizontal flip, gamma and contrast, speckle noise, blur."""
import math

import torch
import torch.nn.functional as F


def augment(images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator):
    """images float [B,1,S,S] in 0..1, masks float {0,1} [B,1,S,S]; returns augmented copies."""
    b, dev = images.shape[0], images.device

    def u(lo, hi):
        return (torch.rand(b, generator=gen) * (hi - lo) + lo).to(dev)

    scale = torch.exp(u(math.log(0.8), math.log(1.25)))
    angle = u(-12, 12) * math.pi / 180
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0).to(dev)
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
    noise = torch.randn(images.shape, generator=gen).to(dev)
    noise = F.avg_pool2d(noise, 3, stride=1, padding=1) * 2.0
    images = images * (1 + sigma * noise)
    # Blur a third of the batch with a 5x5 Gaussian.
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=dev)
    k = (k[:, None] * k[None, :]) / 256.0
    blurred = F.conv2d(F.pad(images, (2, 2, 2, 2), mode="replicate"), k.view(1, 1, 5, 5))
    sel = (torch.rand(b, generator=gen) < 0.33).to(dev).view(b, 1, 1, 1).float()
    images = sel * blurred + (1 - sel) * images
    return images.clamp(0, 1), masks
