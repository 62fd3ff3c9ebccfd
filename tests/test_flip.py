"""Flip test: the mirrored view's heatmaps are mirrored back with left/right keypoints swapped
(42-keypoint layouts) or kept (21-keypoint layouts), in one batched forward."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.datasets.transforms import RandomFlip

from clamp_hand.models import TopdownHeatmapEstimator, flip_heatmaps
from conftest import ROOT

BASE = osp.join(ROOT, 'configs/_base_/datasets')
LAYOUTS = {'hand21_wrist_first': 21, 'assemblyhands_onehand': 21,
           'hand42_wrist_first': 42, 'assemblyhands_twohands': 42}


def flip_indices(layout):
    return parse_pose_metainfo(dict(from_file=osp.join(BASE, f'{layout}.py')))['flip_indices']


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_flip_indices_swap_hands_only_in_two_hand_layouts(layout):
    idx = flip_indices(layout)
    k = LAYOUTS[layout]
    expected = list(range(k)) if k == 21 else list(range(21, 42)) + list(range(21))
    assert list(idx) == expected


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_random_flip_relabels_keypoints_like_the_flip_test(layout):
    """mmpose's RandomFlip with our metainfo: after mirroring, keypoint k is what k's flip
    partner was (a right hand becomes a left one)."""
    k = LAYOUTS[layout]
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 99, size=(1, k, 2)).astype(np.float32)
    results = dict(img=np.zeros((100, 100, 3), np.uint8), img_shape=(100, 100),
                   keypoints=kpts.copy(), keypoints_visible=np.ones((1, k), np.float32),
                   bbox=np.array([[10, 10, 90, 90]], np.float32),
                   bbox_center=np.array([[50, 50]], np.float32),
                   bbox_scale=np.array([[80, 80]], np.float32),
                   flip_indices=flip_indices(layout))
    out = RandomFlip(prob=1.0, direction='horizontal').transform(results)
    partner = flip_indices(layout)
    for j in range(k):
        np.testing.assert_allclose(out['keypoints'][0, j, 0], 100 - 1 - kpts[0, partner[j], 0], atol=1)
        np.testing.assert_allclose(out['keypoints'][0, j, 1], kpts[0, partner[j], 1])


class SideAwareNet(TopdownHeatmapEstimator):
    """Stand-in network that 'sees' the right hand in the image's left half and the left hand
    in its right half (as a camera facing the hands does): channel k < 21 responds to image
    content left of the centre, channel k + 21 right of it. Mirroring the image therefore
    swaps the hands, which the flip test must undo."""

    def __init__(self, k):
        torch.nn.Module.__init__(self)
        self.k = k
        self.test_cfg = dict(flip_test=True, shift_heatmap=False, output_heatmaps=False)
        self.metainfo = {}
        self.forward_calls = 0

    def forward_heatmaps(self, inputs):
        self.forward_calls += 1
        x = inputs[:, 0]  # (B, H, W)
        w = x.shape[-1]
        left = torch.zeros_like(x)
        left[..., :w // 2] = 1
        gains = torch.arange(1, self.k + 1, dtype=x.dtype)[None, :, None, None]
        if self.k == 21:
            return x[:, None] * gains
        right_hand = x[:, None] * left[:, None] * gains[:, :21]
        left_hand = x[:, None] * (1 - left[:, None]) * gains[:, :21]
        return torch.cat([right_hand, left_hand], dim=1)


@pytest.mark.parametrize('layout', ['hand21_wrist_first', 'hand42_wrist_first'])
def test_flip_test_recovers_the_unflipped_prediction_in_one_forward(layout):
    k = LAYOUTS[layout]
    net = SideAwareNet(k)
    x = torch.rand(2, 3, 16, 16)
    plain = net.forward_heatmaps(x)
    net.metainfo = dict(flip_indices=flip_indices(layout))
    net.forward_calls = 0
    both = net.predict_heatmaps(x)
    assert net.forward_calls == 1, 'original and mirrored views must share one forward'
    torch.testing.assert_close(both, plain)
    if k == 42:  # with the hands not swapped back, the result is wrong
        net.metainfo = dict(flip_indices=list(range(42)))
        assert not torch.allclose(net.predict_heatmaps(x), plain)


def test_flip_heatmaps_shift_moves_one_pixel_right():
    h = torch.zeros(1, 1, 1, 5)
    h[..., 1] = 1.0  # peak at x=1 -> mirrored at x=3 -> shifted to x=4
    out = flip_heatmaps(h, [0], shift=True)
    assert out[0, 0, 0].argmax().item() == 4
    assert flip_heatmaps(h, [0], shift=False)[0, 0, 0].argmax().item() == 3
