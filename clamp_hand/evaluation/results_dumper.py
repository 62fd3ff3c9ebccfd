"""Write predictions as a COCO keypoint results json (``tools/test.py --out``)."""
import json
import os
import os.path as osp

import numpy as np
from mmengine.evaluator import BaseMetric

from clamp_hand.registry import METRICS


@METRICS.register_module()
class CocoResultsDumper(BaseMetric):
    """Collects ``pred_instances`` of every sample (across processes) and writes
    ``[{image_id, category_id, keypoints: [x, y, score] * K, score}]`` to ``out_file``;
    reports no metric."""

    def __init__(self, out_file: str, **kwargs):
        super().__init__(**kwargs)
        self.out_file = out_file

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            kpts = np.asarray(s['pred_instances']['keypoints'])[0]
            scores = np.asarray(s['pred_instances']['keypoint_scores'])[0]
            flat = np.concatenate([kpts, scores[:, None]], axis=1).reshape(-1)
            self.results.append(dict(image_id=int(s['img_id']), id=int(s['id']),
                                     category_id=int(s.get('category_id', 1)),
                                     keypoints=[round(float(v), 3) for v in flat],
                                     score=float(scores.mean())))

    def compute_metrics(self, results: list) -> dict:
        results = sorted({r['id']: r for r in results}.values(), key=lambda r: r['id'])
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        tmp = self.out_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump([{k: v for k, v in r.items() if k != 'id'} for r in results], f)
        os.replace(tmp, self.out_file)
        return {}
