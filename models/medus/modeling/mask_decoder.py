"""SAM's mask decoder (output tokens, two-way transformer, hypernetwork MLPs, IoU head) with its
upscaling path fed by the encoder's stride-8 and stride-4 ConvNeXt features for sharper boundaries.

Always returns 1 + num_multimask_outputs masks: index 0 is the single-mask answer for unambiguous
prompts (box, several clicks, automatic), indices 1.. are candidates for an ambiguous single click.
Besides SAM's outputs it returns a "target present" logit per image (presence.py) for automatic mode.
"""
from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .common import LayerNorm2d, batch_size
from .presence import PresenceHead
from .transformer import TwoWayTransformer


class MLP(nn.Module):
    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int, sigmoid_output: bool = False) -> None:
        super().__init__()
        h = [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(nn.Linear(n, k) for n, k in zip([input_dim] + h, h + [output_dim]))
        self.sigmoid_output = sigmoid_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = F.relu(layer(x)) if i < len(self.layers) - 1 else layer(x)
        return torch.sigmoid(x) if self.sigmoid_output else x


class MaskDecoder(nn.Module):
    def __init__(
        self,
        transformer_dim: int,
        transformer: TwoWayTransformer,
        skip_chans: Tuple[int, int] = (64, 32),
        num_multimask_outputs: int = 3,
        iou_head_depth: int = 3,
        iou_head_hidden_dim: int = 128,
    ) -> None:
        super().__init__()
        self.transformer_dim = transformer_dim
        self.transformer = transformer
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, transformer_dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, transformer_dim)
        c8, c4 = skip_chans
        self.upscale1 = nn.ConvTranspose2d(transformer_dim, c8, kernel_size=2, stride=2)
        self.upscale1_norm = LayerNorm2d(c8)
        self.upscale2 = nn.ConvTranspose2d(c8, c4, kernel_size=2, stride=2)
        # depth-wise separable: a full 3x3 conv at stride 4 would cost more than the whole transformer
        self.refine = nn.Sequential(
            nn.Conv2d(c4, c4, 3, padding=1, groups=c4), nn.Conv2d(c4, c4, 1), LayerNorm2d(c4), nn.GELU()
        )
        self.act = nn.GELU()
        self.output_hypernetworks_mlps = nn.ModuleList(
            [MLP(transformer_dim, transformer_dim, c4, 3) for _ in range(self.num_mask_tokens)]
        )
        self.iou_prediction_head = MLP(transformer_dim, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth)
        self.presence_head = PresenceHead(transformer_dim)

    def forward(
        self,
        image_embeddings: torch.Tensor,
        features_s8: torch.Tensor,
        features_s4: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b = batch_size(sparse_prompt_embeddings)
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        output_tokens = output_tokens.unsqueeze(0).expand(b, -1, -1)
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)
        src = image_embeddings + dense_prompt_embeddings
        pos_src = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape
        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, 0, :]
        mask_tokens_out = hs[:, 1 : 1 + self.num_mask_tokens, :]
        src = src.transpose(1, 2).reshape(b, c, h, w)
        x = self.act(self.upscale1_norm(self.upscale1(src)) + features_s8)
        x = self.act(self.upscale2(x) + features_s4)
        x = x + self.refine(x)
        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, i, :]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1
        )
        b2, c2, h2, w2 = x.shape
        masks = (hyper_in @ x.reshape(b2, c2, h2 * w2)).reshape(b2, -1, h2, w2)
        iou_pred = self.iou_prediction_head(iou_token_out)
        presence_logit = self.presence_head(iou_token_out, masks[:, 0])
        return masks, iou_pred, presence_logit
