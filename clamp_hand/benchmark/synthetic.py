"""Synthetic in-memory batches shaped like the output of the top-down pipeline.

A batch is what ``PackPoseInputs`` + the default collate give a model's ``train_step`` /
``val_step``: ``dict(inputs=[uint8 (3,H,W)] * B, data_samples=[PoseDataSample] * B)``, with
heatmap targets made by the model's own codec from random keypoints, so the loss, the
contrastive sampling and the decoding do exactly the work they do on real data.
"""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.structures import PoseDataSample


def synthetic_batch(model, batch_size: int, seed: int = 0,
                    flip_indices: Optional[Sequence[int]] = None) -> dict:
    """A batch for ``model`` (a ``TopdownHeatmapEstimator``): input size and keypoint count
    from ``model.codec`` / ``model.num_keypoints``; ``flip_indices`` default: identity
    (the flip test costs the same for any permutation)."""
    rng = np.random.default_rng(seed)
    w, h = model.codec.input_size
    k = model.num_keypoints
    flip_indices = list(flip_indices) if flip_indices is not None else list(range(k))
    inputs, samples = [], []
    for _ in range(batch_size):
        image = torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8))
        kpts = rng.uniform([0.15 * w, 0.15 * h], [0.85 * w, 0.85 * h], (1, k, 2)).astype(np.float32)
        visible = (rng.random((1, k)) > 0.1).astype(np.float32)
        target = model.codec.encode(kpts, visible)
        sample = PoseDataSample(metainfo=dict(
            input_size=(w, h), input_center=np.array([w / 2, h / 2], dtype=np.float32),
            input_scale=np.array([w, h], dtype=np.float32), flip_indices=flip_indices))
        sample.gt_instances = InstanceData(
            transformed_keypoints=kpts, keypoints_visible=visible,
            bboxes=np.array([[0, 0, w, h]], dtype=np.float32))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(target['keypoint_weights']).float())
        sample.gt_fields = PixelData(heatmaps=torch.from_numpy(target['heatmaps']).float())
        inputs.append(image)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


__all__ = ['synthetic_batch']
