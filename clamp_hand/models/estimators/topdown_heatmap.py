"""Top-down heatmap pose estimator: backbone -> deconv head -> heatmaps -> keypoints.

This is the text-free baseline, and the base class of :class:`CLAMPEstimator`, which only
changes what the head is fed and adds the text-alignment losses. mmpose's estimator cannot be
imported here (``mmpose.models`` needs compiled mmcv ops), so the mmpose 1.x conventions are
kept by hand: ``forward(inputs, data_samples, mode)``, predictions as ``PoseDataSample``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.model import BaseModel
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from clamp_hand.registry import KEYPOINT_CODECS, MODELS


def flip_heatmaps(heatmaps: Tensor, flip_indices: Sequence[int], shift: bool = True) -> Tensor:
    """Map heatmaps predicted on a horizontally flipped input back to the original frame.

    ``(B, K, H, W)``: mirror along W, swap left/right keypoint channels (``flip_indices[k]`` is
    the keypoint that k becomes when mirrored), and with ``shift`` move one pixel right to undo
    the half-pixel offset of mirroring a heatmap whose pixels are not centred (MSRA codec)."""
    flipped = heatmaps.flip(-1)[:, list(flip_indices)]
    if shift:
        flipped = torch.cat([flipped[..., :1], flipped[..., :-1]], dim=-1)
    return flipped


@MODELS.register_module()
class TopdownHeatmapEstimator(BaseModel):
    """Args:
        backbone: image backbone returning ``(feats, cls, dense)`` (see ``CLIPViT``).
        head: heatmap head config; fed ``feats[feature_index]``.
        codec: mmpose keypoint codec config (heatmap encoding/decoding and sizes).
        loss_keypoint: heatmap loss config.
        test_cfg: ``flip_test`` (bool), ``shift_heatmap`` (bool), ``output_heatmaps`` (bool),
            ``flip_batched`` (bool, default True: the original and mirrored crops go through
            the network as one batch; False: two sequential passes, for on/off benchmarks).
        pretrained: CLIP weights file loaded by ``init_weights`` (None: random init); any
            format ``clamp_hand.models.clip_weights`` reads (see pretrained/README.md).
        pretrained_allow_missing: patterns (fnmatch) of backbone/text tensors that may be left
            unfilled by ``pretrained``, e.g. ``['text_encoder.*']`` for image-only weights.
        metainfo: dataset meta (``flip_indices``), used when samples carry none (inference).
        attn_impl: if set, ``'sdpa'`` or ``'naive'`` for every attention of the model
            (``models/attention.py``); None keeps each module's own setting (default sdpa).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 codec: dict,
                 loss_keypoint: dict = dict(type='KeypointMSELoss', loss_weight=1.0),
                 feature_index: int = -1,
                 head_extra_in_channels: int = 0,
                 test_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 pretrained_allow_missing: Sequence[str] = (),
                 metainfo: Optional[dict] = None,
                 attn_impl: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        head = dict(head)  # in_channels defaults to the backbone width (+ extra maps)
        head.setdefault('in_channels', self.backbone.width + head_extra_in_channels)
        # a backbone with stem_out hands its stride-2 stem map to the head as a skip input
        head.setdefault('skip_channels', getattr(self.backbone, 'stem_out_channels', 0))
        self.head = MODELS.build(head)
        self.codec = KEYPOINT_CODECS.build(codec)
        self.loss_keypoint = MODELS.build(loss_keypoint)
        self.feature_index = feature_index
        self.test_cfg = dict(flip_test=True, shift_heatmap=True, output_heatmaps=False,
                             flip_batched=True)
        self.test_cfg.update(test_cfg or {})
        self.pretrained = pretrained
        self.pretrained_allow_missing = tuple(pretrained_allow_missing)
        self.metainfo = dict(metainfo or {})
        self.attn_impl = attn_impl
        self._set_attention_impl()

    @property
    def num_keypoints(self) -> int:
        return self.head.out_channels

    def _set_attention_impl(self) -> None:
        """Apply the estimator-wide ``attn_impl`` (subclasses call it once all modules exist)."""
        if self.attn_impl is not None:
            from clamp_hand.models.attention import set_attention_impl
            set_attention_impl(self, self.attn_impl)

    def init_weights(self):
        super().init_weights()
        if self.pretrained:
            from clamp_hand.models.clip_weights import load_clip_weights
            load_clip_weights(self, self.pretrained, self.pretrained_allow_missing)

    # ---- forward pieces -------------------------------------------------------------------
    def forward_heatmaps(self, inputs: Tensor) -> Tensor:
        """``(B,3,H,W) -> (B,K,h,w)`` heatmaps."""
        feats, _, _ = self.backbone(inputs)
        return self.head(feats[self.feature_index], self.skip_feature(feats))

    def skip_feature(self, feats) -> Optional[Tensor]:
        """The backbone's high-resolution stem map (``feats[0]`` when ``backbone.stem_out``)."""
        return feats[0] if getattr(self.backbone, 'stem_out', False) else None

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_heatmaps(inputs)
        raise ValueError(f'unknown forward mode {mode!r}: use loss, predict or tensor')

    # ---- training -------------------------------------------------------------------------
    @staticmethod
    def _targets(data_samples) -> Dict[str, Tensor]:
        """Stack per-sample targets: heatmaps ``(B,K,h,w)``, weights ``(B,K)``, keypoints
        in input pixels ``(B,K,2)``."""
        heatmaps = torch.stack([d.gt_fields.heatmaps for d in data_samples])
        weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in data_samples])
        out = dict(heatmaps=heatmaps, weights=weights)
        if 'transformed_keypoints' in data_samples[0].gt_instances:
            kpts = np.concatenate([d.gt_instances.transformed_keypoints for d in data_samples])
            out['keypoints'] = torch.as_tensor(kpts, dtype=torch.float32, device=heatmaps.device)
        return out

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        t = self._targets(data_samples)
        return dict(loss_heatmap=self.loss_keypoint(self.forward_heatmaps(inputs), t['heatmaps'],
                                                    t['weights']))

    # ---- inference ------------------------------------------------------------------------
    def flip_indices(self, data_samples) -> List[int]:
        if data_samples and 'flip_indices' in data_samples[0].metainfo:
            return list(data_samples[0].metainfo['flip_indices'])
        if 'flip_indices' in self.metainfo:
            return list(self.metainfo['flip_indices'])
        raise KeyError('flip test needs flip_indices: the data samples carry none and '
                       'model.metainfo has none; set model.test_cfg.flip_test=False or give '
                       'model.metainfo=dict(flip_indices=[...])')

    @torch.no_grad()
    def predict_heatmaps(self, inputs: Tensor, data_samples=None) -> Tensor:
        """Heatmaps ``(B,K,h,w)``, averaged with the flipped view when ``flip_test``; the two
        views go through the network as one batch (``flip_batched``, default) or one after
        the other."""
        if not self.test_cfg['flip_test']:
            return self.forward_heatmaps(inputs)
        if self.test_cfg.get('flip_batched', True):
            plain, mirrored = self.forward_heatmaps(torch.cat([inputs, inputs.flip(-1)])).chunk(2)
        else:
            plain, mirrored = self.forward_heatmaps(inputs), self.forward_heatmaps(inputs.flip(-1))
        mirrored = flip_heatmaps(mirrored, self.flip_indices(data_samples),
                                 shift=self.test_cfg['shift_heatmap'])
        return (plain + mirrored) * 0.5

    def predict(self, inputs: Tensor, data_samples) -> list:
        """Decode keypoints in original-image pixels into ``data_sample.pred_instances``
        (``keypoints (1,K,2)``, ``keypoint_scores (1,K)``)."""
        heatmaps = self.predict_heatmaps(inputs, data_samples).float()
        hm_np = heatmaps.cpu().numpy()
        for i, sample in enumerate(data_samples):
            kpts, scores = self.codec.decode(hm_np[i])  # input-crop pixels
            meta = sample.metainfo
            size = np.asarray(meta['input_size'], dtype=np.float32)
            scale = np.asarray(meta['input_scale'], dtype=np.float32).reshape(-1)
            center = np.asarray(meta['input_center'], dtype=np.float32).reshape(-1)
            kpts = kpts / size * scale + center - 0.5 * scale
            pred = InstanceData(keypoints=kpts, keypoint_scores=scores,
                                bbox_scores=np.ones(len(kpts), dtype=np.float32))
            if 'bboxes' in sample.get('gt_instances', {}):
                pred.bboxes = sample.gt_instances.bboxes
            sample.pred_instances = pred
            if self.test_cfg['output_heatmaps']:
                sample.pred_fields = PixelData(heatmaps=heatmaps[i])
        return data_samples
