"""The seed's COCO AP, for comparison only: OKS with the AP-10K *animal* sigmas.

Hand-CLAMP (the seed) evaluated AssemblyHands with the sigmas its dataset configs carried
(``configs/_base_/datasets/interhand_{onehand,twohands}.py`` there): the 17 AP-10K sigmas
followed by AP-10K's last four again (21 values, applied by index to the AssemblyHands order),
and that list twice for the 42 keypoints of two hands. Its 0.442 (one hand) / 0.53 (two hands)
are APs under these sigmas. They are 1-4x the hand sigmas, so the same predictions score a
much higher AP than under hand sigmas; ``coco/AP`` (hand sigmas) stays the project's figure.

Like the seed's evaluation (mmpose 0.x ``AnimalAP10KDataset.evaluate``), instances are
rescored by box score x mean keypoint score above 0.2 and OKS-NMS'ed at 0.9 (under the same
sigmas): mmpose ``CocoMetric``'s defaults.
"""
from typing import List, Sequence, Union

import numpy as np
from mmpose.evaluation.metrics import CocoMetric

from clamp_hand.registry import METRICS

# AP-10K's 17 keypoint sigmas (eyes, nose, neck, tail root, shoulders, elbows, paws, ...)
AP10K_SIGMAS = (0.025, 0.025, 0.026, 0.035, 0.035, 0.079, 0.072, 0.062, 0.079, 0.072,
                0.062, 0.107, 0.087, 0.089, 0.107, 0.087, 0.089)


def seed_sigmas(num_keypoints: int) -> List[float]:
    """The seed's per-keypoint sigmas for its 21- or 42-keypoint AssemblyHands layouts."""
    one_hand = list(AP10K_SIGMAS) + list(AP10K_SIGMAS[13:17])
    if num_keypoints == 21:
        return one_hand
    if num_keypoints == 42:
        return one_hand * 2
    raise ValueError(f'the seed\'s AP-10K sigmas exist for 21 or 42 keypoints (AssemblyHands '
                     f'one hand / two hands), not {num_keypoints}; drop AP10KSigmaCocoMetric '
                     'from this config\'s evaluator')


@METRICS.register_module()
class AP10KSigmaCocoMetric(CocoMetric):
    """``CocoMetric`` with the seed's AP-10K-derived sigmas, reported as
    ``coco-ap10k-sigmas/AP`` etc. next to the hand-sigma ``coco/AP`` of a plain ``CocoMetric``.

    Args:
        sigmas: ``'hand-clamp-seed'`` (default; see :func:`seed_sigmas`) or an explicit list,
            one per keypoint of the dataset.
        **kwargs: ``CocoMetric`` arguments (defaults as the seed: OKS-NMS 0.9, rescoring).
    """

    default_prefix = 'coco-ap10k-sigmas'

    def __init__(self, sigmas: Union[str, Sequence[float]] = 'hand-clamp-seed', **kwargs):
        if isinstance(sigmas, str) and sigmas != 'hand-clamp-seed':
            raise ValueError(f"AP10KSigmaCocoMetric.sigmas: 'hand-clamp-seed' or a list of "
                             f'numbers, got {sigmas!r}')
        super().__init__(**kwargs)
        self.seed_sigma_spec = sigmas

    @CocoMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        meta = dict(dataset_meta)  # the evaluator shares one dict between its metrics
        k = int(meta.get('num_keypoints') or len(meta['sigmas']))
        if isinstance(self.seed_sigma_spec, str):
            sigmas = seed_sigmas(k)
        else:
            sigmas = [float(s) for s in self.seed_sigma_spec]
            if len(sigmas) != k:
                raise ValueError(f'AP10KSigmaCocoMetric.sigmas has {len(sigmas)} values but the '
                                 f'dataset has {k} keypoints')
        meta['sigmas'] = np.asarray(sigmas, dtype=np.float32)
        CocoMetric.dataset_meta.fset(self, meta)
