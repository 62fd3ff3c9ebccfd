"""CMU Panoptic hands: mmpose's ``PanopticHand2DDataset`` with a head size that survives
``PackPoseInputs``.

mmpose's dataset stores each instance's ``head_size`` (px; the PCKh@0.7 normaliser of this
benchmark) as a plain float; ``PackPoseInputs`` puts it into the sample's ``gt_instances``
(an ``InstanceData``, whose fields must have a length), and the first ``.to(device)`` of the
batch fails (``value must contain `__len__` attribute``). This subclass, registered under the
same name in the ``clamp_hand`` scope (so configs keep ``type='PanopticHand2DDataset'``), stores
it as a (1,) array; mmpose's ``PCKAccuracy(norm_item='head')`` reads either.
"""
import numpy as np
from mmpose.datasets.datasets.hand import PanopticHand2DDataset as _MMPosePanopticHand2D

from clamp_hand.registry import DATASETS


@DATASETS.register_module(name='PanopticHand2DDataset')
class PanopticHand2DDataset(_MMPosePanopticHand2D):
    """``PanopticHand2DDataset`` whose ``head_size`` is a (1,) float32 array (module doc)."""

    def parse_data_info(self, raw_data_info: dict):
        info = super().parse_data_info(raw_data_info)
        if info and 'head_size' in info:
            info['head_size'] = np.array([info['head_size']], dtype=np.float32)
        return info
