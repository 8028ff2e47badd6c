import torch
import torch.nn.functional as F
from torch import nn


def batch_size(x: torch.Tensor) -> int:
    """The batch dimension, as the constant 1 while exporting (the contract's batch): a traced
    x.shape[0] of a tensor whose token count varies with the prompt is a Shape/Gather/Unsqueeze/
    Concat chain before every reshape, which onnxruntime cannot fold and runs on every click."""
    return 1 if torch.onnx.is_in_onnx_export() else x.shape[0]


class MLPBlock(nn.Module):
    def __init__(self, embedding_dim: int, mlp_dim: int, act=nn.GELU) -> None:
        super().__init__()
        self.lin1 = nn.Linear(embedding_dim, mlp_dim)
        self.lin2 = nn.Linear(mlp_dim, embedding_dim)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.act(self.lin1(x)))


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor (as in SAM's neck).

    Computed as channels-last F.layer_norm between two permutes (the same arithmetic as SAM's
    mean/var form): exported at opset 17 it is one LayerNormalization node, and onnxruntime folds
    the permutes into its NCHWc reorders, where the mean/var form stayed an unfusable chain of
    ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add over the channel axis (about a fifth of the encoder's time).
    """

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class GRN(nn.Module):
    """Global Response Normalisation from ConvNeXt V2, channels-last input (N, H, W, C).

    Written with sum/sqrt rather than torch.norm so the ONNX export stays on plain ops. The
    spatial sum of squares is a product with a row of ones, and the output x * (1 + gamma * nx) + beta:
    the same arithmetic as ConvNeXt V2's gamma * (x * nx) + beta + x, but onnxruntime reduces over
    the two spatial axes slowly (a ReduceSum over [1, 64, 64, 96] took 0.36 ms, the product 0.05 ms)
    and each full-size elementwise op costs as much again.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        flat = x.reshape(b, h * w, c)
        squares = torch.matmul(x.new_ones(b, 1, h * w), flat * flat).reshape(b, 1, 1, c)
        gx = torch.sqrt(squares + 1e-6)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return x * (self.gamma * nx + 1.0) + self.beta
