"""Visibility-weighted heatmap MSE."""
import torch
from torch import nn

from clamp_hand.registry import MODELS


@MODELS.register_module()
class KeypointMSELoss(nn.Module):
    """``mean((pred - target)^2 * w)`` over ``(B, K, H, W)`` with per-keypoint weights
    ``w (B, K)`` (0 for keypoints that are not labeled or fall outside the crop)."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        err = (pred.float() - target.float()).pow(2)
        return err.mul(weights[..., None, None].float()).mean() * self.loss_weight
