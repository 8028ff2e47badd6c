"""Mask losses: boundary-weighted BCE (the boundary-aware term) + soft Dice; MSE for the IoU head."""
import torch
import torch.nn.functional as F


def boundary_band(gt: torch.Tensor, width: int = 5) -> torch.Tensor:
    dil = F.max_pool2d(gt, width, stride=1, padding=width // 2)
    ero = -F.max_pool2d(-gt, width, stride=1, padding=width // 2)
    return dil - ero


def mask_losses(logits: torch.Tensor, gt: torch.Tensor, boundary_weight: float = 4.0):
    """logits, gt: [B,1,S,S]; returns per-sample (bce, dice) losses."""
    w = 1.0 + boundary_weight * boundary_band(gt)
    bce = F.binary_cross_entropy_with_logits(logits, gt, reduction="none")
    bce = (bce * w).sum(dim=(1, 2, 3)) / w.sum(dim=(1, 2, 3))
    p = torch.sigmoid(logits)
    inter = (p * gt).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum(dim=(1, 2, 3)) + gt.sum(dim=(1, 2, 3)) + 1)
    return bce, dice


@torch.no_grad()
def hard_iou(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """IoU of the thresholded mask; an empty prediction of an empty target counts as 1."""
    pred = logits > 0
    g = gt > 0.5
    inter = (pred & g).sum(dim=(1, 2, 3)).float()
    union = (pred | g).sum(dim=(1, 2, 3)).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
