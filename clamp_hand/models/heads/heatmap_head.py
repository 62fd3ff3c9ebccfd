"""Deconvolution heatmap head (SimpleBaseline style)."""
from typing import Optional, Sequence

import torch
from torch import nn

from clamp_hand.registry import MODELS


@MODELS.register_module()
class DeconvHeatmapHead(nn.Module):
    """``(B, in_channels, h, w) -> (B, out_channels, h * 2^n, w * 2^n)`` heatmaps.

    Args:
        deconv_out_channels: channels of each stride-2 transposed conv (n = its length).
        deconv_kernel_sizes: 4, 3 or 2 per deconv.
        with_norm: BatchNorm after each deconv; turn off where batch statistics must not
            differ between processes (e.g. exact distributed-equivalence tests).
        skip_channels: channels of a high-resolution feature map ``skip`` at the output
            resolution, fused after the deconvs (concat, 1x1 conv, norm, ReLU); 0: none.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 deconv_out_channels: Sequence[int] = (256, 256),
                 deconv_kernel_sizes: Sequence[int] = (4, 4),
                 with_norm: bool = True,
                 skip_channels: int = 0):
        super().__init__()
        if len(deconv_out_channels) != len(deconv_kernel_sizes):
            raise ValueError('deconv_out_channels and deconv_kernel_sizes differ in length: '
                             f'{deconv_out_channels} vs {deconv_kernel_sizes}')
        self.in_channels, self.out_channels = in_channels, out_channels
        layers, c = [], in_channels
        for oc, k in zip(deconv_out_channels, deconv_kernel_sizes):
            pad, out_pad = {4: (1, 0), 3: (1, 1), 2: (0, 0)}[k]
            layers.append(nn.ConvTranspose2d(c, oc, k, stride=2, padding=pad,
                                             output_padding=out_pad, bias=not with_norm))
            if with_norm:
                layers.append(nn.BatchNorm2d(oc))
            layers.append(nn.ReLU(inplace=True))
            c = oc
        self.deconv_layers = nn.Sequential(*layers)
        self.skip_channels = skip_channels
        self.skip_fuse = None
        if skip_channels:
            self.skip_fuse = nn.Sequential(
                # 1x1: a 3x3 conv at the heatmap resolution cost the quickstart model 30 % more
                # time per step (0.24 -> 0.32 s) for no measurable gain per epoch
                nn.Conv2d(c + skip_channels, c, 1, bias=not with_norm),
                nn.BatchNorm2d(c) if with_norm else nn.Identity(), nn.ReLU(inplace=True))
        self.final_layer = nn.Conv2d(c, out_channels, kernel_size=1)
        for m in self.modules():
            if isinstance(m, (nn.ConvTranspose2d, nn.Conv2d)):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, skip: Optional[torch.Tensor] = None) -> torch.Tensor:
        if x.shape[1] != self.in_channels:
            raise ValueError(f'head expects {self.in_channels} input channels, got {x.shape[1]}')
        x = self.deconv_layers(x)
        if self.skip_fuse is not None:
            if skip is None or skip.shape[1] != self.skip_channels or \
                    skip.shape[-2:] != x.shape[-2:]:
                got = None if skip is None else tuple(skip.shape[1:])
                raise ValueError(f'head expects a skip map of {self.skip_channels} channels at '
                                 f'{tuple(x.shape[-2:])}, got {got}: the backbone\'s stem '
                                 'stride-2 map must match the heatmap size')
            x = self.skip_fuse(torch.cat([x, skip.to(x.dtype)], dim=1))
        return self.final_layer(x)
