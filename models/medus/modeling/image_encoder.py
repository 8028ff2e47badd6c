"""Image encoder: a ViT branch (global context) and a ConvNeXt V2 branch (local texture, boundaries)
fused by convolutional "CM" blocks, in the spirit of SAM-MedUS (Tian et al., JMI 2025).

Outputs (names are the ONNX output names of encoder.onnx):
  image_embeddings  [B, E, S/16, S/16]   fused embedding the two-way transformer attends to
  features_s8       [B, C8, S/8, S/8]    ConvNeXt stage-2 features, added during mask upscaling
  features_s4       [B, C4, S/4, S/4]    ConvNeXt stage-1 features, added during mask upscaling
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .common import GRN, LayerNorm2d, MLPBlock


class PatchEmbed(nn.Module):
    def __init__(self, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)  # B H W C


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class ViTBlock(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 3.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ConvNeXtV2Block(nn.Module):
    """Depth-wise 7x7 conv, LayerNorm, inverted bottleneck with GRN (ConvNeXt V2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.grn = GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.grn(self.act(self.pwconv1(self.norm(y)))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtV2Branch(nn.Module):
    def __init__(self, in_chans: int, dims: Tuple[int, int, int], depths: Tuple[int, int, int]) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0]))
        self.stages = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for i, (dim, depth) in enumerate(zip(dims, depths)):
            if i > 0:
                self.downsample.append(
                    nn.Sequential(LayerNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], dim, kernel_size=2, stride=2))
                )
            self.stages.append(nn.Sequential(*[ConvNeXtV2Block(dim) for _ in range(depth)]))

    def forward(self, x: torch.Tensor):
        feats = []
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.downsample[i - 1](x)
            x = stage(x)
            feats.append(x)
        return feats  # strides 4, 8, 16


class CMBlock(nn.Module):
    """Convolution-mixing block that fuses the ViT tokens with the ConvNeXt features.

    The two streams are concatenated and projected (1x1), then a residual 3x3 conv pair mixes
    neighbouring tokens (depth-wise separable, to stay cheap on a CPU), which restores the locality that the ViT's 16x16 patches lose; a
    channel gate computed from the ConvNeXt stream lets local texture modulate global context.
    """

    def __init__(self, vit_dim: int, conv_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(vit_dim + conv_dim, out_dim, 1, bias=False), LayerNorm2d(out_dim))
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(conv_dim, out_dim, 1), nn.Sigmoid())
        # depth-wise 3x3 then point-wise: the locality of a full 3x3 conv at a tenth of its cost
        self.mix = nn.Sequential(
            nn.Conv2d(out_dim, out_dim, 3, padding=1, groups=out_dim),
            nn.Conv2d(out_dim, out_dim, 1, bias=False),
            LayerNorm2d(out_dim),
            nn.GELU(),
            nn.Conv2d(out_dim, out_dim, 3, padding=1, groups=out_dim),
            nn.Conv2d(out_dim, out_dim, 1, bias=False),
            LayerNorm2d(out_dim),
        )

    def forward(self, vit: torch.Tensor, conv: torch.Tensor) -> torch.Tensor:
        x = self.proj(torch.cat([vit, conv], dim=1))
        x = x * (1.0 + self.gate(conv))
        return x + self.mix(x)


class ImageEncoderViTConvNeXt(nn.Module):
    def __init__(
        self,
        img_size: int = 256,
        in_chans: int = 1,
        patch_size: int = 16,
        vit_dim: int = 128,
        vit_depth: int = 3,
        vit_heads: int = 4,
        conv_dims: Tuple[int, int, int] = (24, 48, 96),
        conv_depths: Tuple[int, int, int] = (1, 1, 2),
        out_chans: int = 128,
        skip_chans: Tuple[int, int] = (64, 32),
    ) -> None:
        super().__init__()
        self.img_size = img_size
        grid = img_size // patch_size
        self.patch_embed = PatchEmbed(patch_size, in_chans, vit_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, vit_dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList([ViTBlock(vit_dim, vit_heads) for _ in range(vit_depth)])
        self.norm = nn.LayerNorm(vit_dim)
        self.convnext = ConvNeXtV2Branch(in_chans, conv_dims, conv_depths)
        self.fuse = CMBlock(vit_dim, conv_dims[2], out_chans)
        self.neck = nn.Sequential(nn.Conv2d(out_chans, out_chans, 1, bias=False), LayerNorm2d(out_chans))
        self.skip_s8 = nn.Sequential(nn.Conv2d(conv_dims[1], skip_chans[0], 1), LayerNorm2d(skip_chans[0]))
        self.skip_s4 = nn.Sequential(nn.Conv2d(conv_dims[0], skip_chans[1], 1), LayerNorm2d(skip_chans[1]))

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        b = x.shape[0]
        t = self.patch_embed(x) + self.pos_embed
        h, w = t.shape[1], t.shape[2]
        t = t.reshape(b, h * w, -1)
        for blk in self.blocks:
            t = blk(t)
        t = self.norm(t).reshape(b, h, w, -1).permute(0, 3, 1, 2)
        c4, c8, c16 = self.convnext(x)
        emb = self.neck(self.fuse(t, c16))
        return {
            "image_embeddings": emb,
            "features_s8": self.skip_s8(c8),
            "features_s4": self.skip_s4(c4),
        }
