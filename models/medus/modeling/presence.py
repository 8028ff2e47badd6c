"""Is the asked-for target in the image at all? (automatic mode's "nothing here").

v1 derived the answer from the IoU head's mask-quality estimate, which is calibrated on the
training scanners' look: on a darker, lower-contrast scanner it fell below the threshold while
the masks stayed good. This head is trained for the question itself, on target / no-target pairs
(truly empty images and images of another organ) under strong appearance augmentation. It reads
the IoU token, which has attended to the image and to the anatomy token, and four statistics of
the single-mask logits (how sure and how large the drawn answer is), and returns a logit.
"""
import torch
from torch import nn
from torch.nn import functional as F

N_STATS = 4


def logit_stats(mask_logits: torch.Tensor) -> torch.Tensor:
    """[B, H, W] low-resolution logits -> [B, 4], scaled to about unit range."""
    flat = mask_logits.flatten(1)
    inside = (flat > 0).float()
    area = inside.mean(dim=1)
    peak = flat.amax(dim=1) / 10.0
    mean = flat.mean(dim=1) / 10.0
    inside_mean = (F.relu(flat) * inside).sum(dim=1) / (inside.sum(dim=1) + 1.0) / 10.0
    return torch.stack([peak, mean, area, inside_mean], dim=1)


class PresenceHead(nn.Module):
    def __init__(self, token_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.fc1 = nn.Linear(token_dim + N_STATS, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, iou_token_out: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
        x = torch.cat([iou_token_out, logit_stats(mask_logits)], dim=1)
        return self.fc2(F.relu(self.fc1(x)))
