"""The whole model, as SAM's `Sam` class: image encoder, prompt encoder, mask decoder."""
from dataclasses import dataclass, asdict, field
from typing import Dict, List, Tuple

import torch
from torch import nn

from .image_encoder import ImageEncoderViTConvNeXt
from .mask_decoder import MaskDecoder
from .prompt_encoder import PromptEncoder
from .transformer import TwoWayTransformer


@dataclass
class MedUSConfig:
    img_size: int = 256
    in_chans: int = 1
    vit_dim: int = 128
    vit_depth: int = 3
    vit_heads: int = 4
    conv_dims: Tuple[int, int, int] = (24, 48, 96)
    conv_depths: Tuple[int, int, int] = (1, 1, 2)
    embed_dim: int = 128
    skip_chans: Tuple[int, int] = (64, 32)
    decoder_depth: int = 2
    decoder_heads: int = 8
    decoder_mlp_dim: int = 512
    anatomies: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: Dict) -> "MedUSConfig":
        d = dict(d)
        for k in ("conv_dims", "conv_depths", "skip_chans"):
            d[k] = tuple(d[k])
        return MedUSConfig(**d)


class MedUS(nn.Module):
    def __init__(self, cfg: MedUSConfig) -> None:
        super().__init__()
        self.cfg = cfg
        grid = cfg.img_size // 16
        self.image_encoder = ImageEncoderViTConvNeXt(
            img_size=cfg.img_size,
            in_chans=cfg.in_chans,
            vit_dim=cfg.vit_dim,
            vit_depth=cfg.vit_depth,
            vit_heads=cfg.vit_heads,
            conv_dims=cfg.conv_dims,
            conv_depths=cfg.conv_depths,
            out_chans=cfg.embed_dim,
            skip_chans=cfg.skip_chans,
        )
        self.prompt_encoder = PromptEncoder(
            embed_dim=cfg.embed_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(cfg.img_size, cfg.img_size),
            mask_in_chans=16,
            num_anatomies=len(cfg.anatomies),
        )
        self.mask_decoder = MaskDecoder(
            transformer_dim=cfg.embed_dim,
            transformer=TwoWayTransformer(cfg.decoder_depth, cfg.embed_dim, cfg.decoder_heads, cfg.decoder_mlp_dim),
            skip_chans=cfg.skip_chans,
        )

    def decode(
        self,
        feats: Dict[str, torch.Tensor],
        point_coords: torch.Tensor,
        point_labels: torch.Tensor,
        mask_input: torch.Tensor,
        has_mask_input: torch.Tensor,
        anatomy: torch.Tensor,
    ):
        sparse, dense = self.prompt_encoder(point_coords, point_labels, mask_input, has_mask_input, anatomy)
        return self.mask_decoder(
            feats["image_embeddings"],
            feats["features_s8"],
            feats["features_s4"],
            self.prompt_encoder.get_dense_pe(),
            sparse,
            dense,
        )
