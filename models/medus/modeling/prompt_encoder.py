"""SAM's prompt encoder (random-Fourier positional encoding, point/box embeddings, dense mask
prompt), extended with a learned anatomy embedding so that one decoder serves clicks, boxes,
refinement and automatic mode ("segment this anatomy's target").

Points use the contract's labels: 1 positive click, 0 negative click, 2 box top-left,
3 box bottom-right, -1 padding. Boxes are therefore just two labelled points, as in SAM's ONNX export.
"""
from typing import Tuple

import numpy as np
import torch
from torch import nn

from .common import LayerNorm2d, batch_size


class PositionEmbeddingRandom(nn.Module):
    def __init__(self, num_pos_feats: int = 64, scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", scale * torch.randn((2, num_pos_feats)))

    def _pe_encoding(self, coords: torch.Tensor) -> torch.Tensor:
        coords = 2 * coords - 1
        coords = coords @ self.positional_encoding_gaussian_matrix
        coords = 2 * np.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def forward(self, size: Tuple[int, int]) -> torch.Tensor:
        h, w = size
        device = self.positional_encoding_gaussian_matrix.device
        grid = torch.ones((h, w), device=device, dtype=torch.float32)
        y_embed = (grid.cumsum(dim=0) - 0.5) / h
        x_embed = (grid.cumsum(dim=1) - 0.5) / w
        pe = self._pe_encoding(torch.stack([x_embed, y_embed], dim=-1))
        return pe.permute(2, 0, 1)  # C x H x W

    def forward_with_coords(self, coords_input: torch.Tensor, image_size: Tuple[int, int]) -> torch.Tensor:
        # x / width, y / height as one division (in-place column writes export as a ScatterND chain)
        coords = coords_input.to(torch.float) / coords_input.new_tensor([image_size[1], image_size[0]], dtype=torch.float)
        return self._pe_encoding(coords)


class PromptEncoder(nn.Module):
    def __init__(
        self,
        embed_dim: int,
        image_embedding_size: Tuple[int, int],
        input_image_size: Tuple[int, int],
        mask_in_chans: int,
        num_anatomies: int,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.input_image_size = input_image_size
        self.image_embedding_size = image_embedding_size
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)
        # 0 negative click, 1 positive click, 2 box top-left, 3 box bottom-right
        self.point_embeddings = nn.ModuleList([nn.Embedding(1, embed_dim) for _ in range(4)])
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_input_size = (4 * image_embedding_size[0], 4 * image_embedding_size[1])
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans // 4),
            nn.GELU(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans),
            nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)
        # Row 0 is "anatomy not given" (contract index -1); rows 1.. are the manifest's anatomies.
        self.num_anatomies = num_anatomies
        self.anatomy_embed = nn.Embedding(num_anatomies + 1, embed_dim)
        self.anatomy_dense = nn.Embedding(num_anatomies + 1, embed_dim)
        # A learned map per anatomy over the embedding grid: where a view's structure usually lies
        # (the symphysis in a labour view). Zero for anatomies trained without it (v1's), so their
        # answers are exactly as before.
        self.anatomy_map = nn.Parameter(torch.zeros(num_anatomies + 1, embed_dim, *image_embedding_size))

    def get_dense_pe(self) -> torch.Tensor:
        return self.pe_layer(self.image_embedding_size).unsqueeze(0)

    def embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """coords [B,N,2] in encoder-input pixels, labels [B,N] float (-1..3)."""
        coords = coords + 0.5  # pixel centre
        pe = self.pe_layer.forward_with_coords(coords, self.input_image_size)
        labels = labels.unsqueeze(-1)
        emb = pe * (labels != -1).to(pe.dtype)
        emb = emb + self.not_a_point_embed.weight * (labels == -1).to(pe.dtype)
        for i in range(4):
            emb = emb + self.point_embeddings[i].weight * (labels == i).to(pe.dtype)
        return emb

    def forward(
        self,
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        mask_input: torch.Tensor,
        has_mask_input: torch.Tensor,
        anatomy: torch.Tensor,
    ):
        """Returns sparse [B, N+1, E] (points then the anatomy token) and dense [B, E, h, w]."""
        b = batch_size(point_coords)
        sparse = self.embed_points(point_coords, point_labels)
        idx = (anatomy.long() + 1).clamp(0, self.num_anatomies)
        anat_tok = self.anatomy_embed(idx).reshape(b, 1, self.embed_dim)
        sparse = torch.cat([sparse, anat_tok], dim=1)
        has = has_mask_input.reshape(b, 1, 1, 1).to(mask_input.dtype)
        dense = self.mask_downscaling(mask_input) * has + (1 - has) * self.no_mask_embed.weight.reshape(1, -1, 1, 1)
        dense = dense + self.anatomy_dense(idx).reshape(b, -1, 1, 1) + self.anatomy_map[idx]
        return sparse, dense
