"""Run an exported pose model with onnxruntime: same inputs and outputs as
:func:`clamp_hand.apis.inference.inference`, no PyTorch model and no text encoder."""
import json
from typing import List, Optional, Sequence

import numpy as np

from .onnx_export import META_KEY


class OnnxHandPoseRunner:
    """Args:
        onnx_file: written by :func:`export_onnx` (its metadata carries the keypoint layout,
            codec and test pipeline).
        providers: onnxruntime execution providers.
        num_threads: intra-op threads (None: onnxruntime's default).

    ``heatmaps(crops)`` runs the graph (with the flip test of the exported config);
    calling the runner on an image predicts the keypoints of each hand box.
    """

    def __init__(self, onnx_file: str, providers: Sequence[str] = ('CPUExecutionProvider', ),
                 num_threads: Optional[int] = None):
        import onnxruntime as ort
        from mmengine.dataset import Compose

        from clamp_hand.registry import KEYPOINT_CODECS, register_all_modules
        register_all_modules()
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_file, sess_options=opts,
                                            providers=list(providers))
        props = self.session.get_modelmeta().custom_metadata_map
        if META_KEY not in props:
            raise ValueError(f'{onnx_file}: no {META_KEY!r} metadata; export it with '
                             'tools/deployment/export_onnx.py')
        self.meta = json.loads(props[META_KEY])
        names = self.meta['keypoint_names']
        self.dataset_meta = dict(
            keypoint_id2name=dict(enumerate(names)), num_keypoints=len(names),
            flip_indices=self.meta['flip_indices'], skeleton_links=self.meta['skeleton_links'],
            skeleton_link_colors=np.asarray(self.meta['skeleton_link_colors'], np.uint8),
            keypoint_colors=np.asarray(self.meta['keypoint_colors'], np.uint8))
        self.codec = KEYPOINT_CODECS.build(self.meta['codec'])
        self.pipeline = Compose(self.meta['pipeline'])
        self.test_cfg = self.meta['test_cfg']

    @property
    def num_keypoints(self) -> int:
        return len(self.meta['keypoint_names'])

    def run(self, crops: np.ndarray) -> np.ndarray:
        """Plain graph run: ``crops (B,3,H,W)`` BGR 0-255 -> ``heatmaps (B,K,h,w)``."""
        return self.session.run(['heatmaps'], {'crops': np.ascontiguousarray(crops, np.float32)})[0]

    def heatmaps(self, crops: np.ndarray, flip_test: Optional[bool] = None) -> np.ndarray:
        """``(B,K,h,w)``; with the flip test the crops and their mirror images run as one
        batch and the mirrored heatmaps are mapped back as in the PyTorch model."""
        import torch

        from clamp_hand.models.estimators import flip_heatmaps
        flip_test = self.test_cfg.get('flip_test', True) if flip_test is None else flip_test
        crops = np.asarray(crops, np.float32)
        if not flip_test:
            return self.run(crops)
        both = self.run(np.concatenate([crops, crops[..., ::-1]]))
        plain, mirrored = np.split(both, 2)
        mirrored = flip_heatmaps(torch.from_numpy(mirrored), self.meta['flip_indices'],
                                 shift=self.test_cfg.get('shift_heatmap', True)).numpy()
        return (plain + mirrored) * 0.5

    def __call__(self, image, bboxes: Optional[Sequence] = None) -> List[dict]:
        """As :func:`~clamp_hand.apis.inference.inference` (without score maps): per hand
        ``keypoints (K,2)`` image pixels, ``scores (K,)``, ``keypoint_names``, ``bbox``."""
        from clamp_hand.apis.inference import decode_to_image, preprocess
        data = preprocess(self, image, bboxes)
        crops = np.stack([x.numpy() for x in data['inputs']]).astype(np.float32)
        decoded = decode_to_image(self.codec, self.heatmaps(crops), data['data_samples'])
        names = self.meta['keypoint_names']
        return [dict(keypoints=k, scores=s, keypoint_names=names,
                     bbox=np.asarray(d.gt_instances.bboxes[0], np.float32))
                for (k, s), d in zip(decoded, data['data_samples'])]
