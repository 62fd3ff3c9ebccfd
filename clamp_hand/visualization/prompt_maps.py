"""Prompt similarity maps: the K image-text score maps of one hand, each over the hand crop and
titled with its prompt (the view specific to a text-prompted model)."""
import math
from typing import Sequence

import numpy as np


def plot_prompt_maps(crop: np.ndarray, score_maps: np.ndarray, prompts: Sequence[str],
                     out_file: str, ncols: int = 7, alpha: float = 0.6) -> str:
    """Write a grid PNG of the K score maps over the crop.

    Args:
        crop: the network input, RGB ``uint8 (H,W,3)``.
        score_maps: ``(K,h,w)`` cosine similarities of the patch embeddings with the K
            refined prompt embeddings; upsampled to the crop size for display. All panels
            share one colour scale (so panels compare), shown by the colour bar.
        prompts: the K prompt texts (panel titles).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    score_maps = np.asarray(score_maps, dtype=np.float32)
    k = len(score_maps)
    if k != len(prompts):
        raise ValueError(f'{k} score maps but {len(prompts)} prompts')
    h, w = crop.shape[:2]
    ncols = min(ncols, k)
    nrows = math.ceil(k / ncols)
    vmin, vmax = float(score_maps.min()), float(score_maps.max())
    gray = crop.mean(axis=2)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.7 * ncols + 0.9, 1.85 * nrows),
                             squeeze=False, layout='constrained')
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis('off')
        if i >= k:
            continue
        ax.imshow(gray, cmap='gray', extent=(0, w, h, 0))
        # each score cell covers an equal share of the crop (patch grid)
        image = ax.imshow(score_maps[i], cmap='jet', alpha=alpha, vmin=vmin, vmax=vmax,
                          extent=(0, w, h, 0), interpolation='bilinear')
        ax.set_title(prompts[i], fontsize=7)
    fig.colorbar(image, ax=axes, shrink=0.8, label='cosine similarity')
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file
