from .image_encoder import ImageEncoderViTConvNeXt
from .prompt_encoder import PromptEncoder
from .mask_decoder import MaskDecoder
from .transformer import TwoWayTransformer
from .medus import MedUS

__all__ = ["ImageEncoderViTConvNeXt", "PromptEncoder", "MaskDecoder", "TwoWayTransformer", "MedUS"]
