"""Metrics of one dataset inside a mixed validation set (mmpose ``CombinedDataset``).

Every sample of a ``CombinedDataset`` keeps the ``dataset_name`` of the dataset it came from
(mmpose's ``BaseCocoStyleDataset.get_data_info`` adds it, ``PackPoseInputs`` packs it). mmpose's
``MultiDatasetEvaluator`` dispatches on it too, but it takes exactly one metric per dataset,
builds each metric's metainfo from the dataset class's default ``METAINFO`` file (not the
layout the samples were converted to), and reports nothing over the whole mix. So a mix config
lists its combined metrics as usual and adds one :class:`PerDatasetMetric` per dataset, which
feeds the wrapped metrics only that dataset's samples and reports ``<dataset_name>/<key>``
(e.g. ``rhd2d/PCK``) beside the combined ``PCK``.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce
from mmengine.evaluator import BaseMetric

from clamp_hand.registry import METRICS


@METRICS.register_module()
class PerDatasetMetric(BaseMetric):
    """Run ``metrics`` on the samples whose ``dataset_name`` is ``dataset_name``.

    Args:
        dataset_name: the ``dataset_name`` of the sub-dataset's metainfo (its layout file).
        metrics: metric configs (e.g. ``PCKAccuracy``, ``AUC``, ``EPE``), built in this scope;
            they get the mix's metainfo (the layout the keypoints were converted to).
        prefix: key prefix; default ``dataset_name``.

    Raises:
        ValueError (at evaluation): the validation set held no sample of ``dataset_name``
            (a wrong name in the config, or an empty annotation file).
    """

    def __init__(self, dataset_name: str, metrics: Sequence[dict],
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix or dataset_name)
        self.dataset_name = dataset_name
        self.metrics: List[BaseMetric] = [METRICS.build(m) for m in metrics]
        self.seen = 0

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        for metric in self.metrics:
            metric.dataset_meta = dataset_meta

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        mine = [s for s in data_samples if s.get('dataset_name') == self.dataset_name]
        if mine:
            self.seen += len(mine)
            for metric in self.metrics:
                metric.process(data_batch, mine)

    def compute_metrics(self, results: list) -> Dict[str, float]:  # pragma: no cover
        raise NotImplementedError('PerDatasetMetric.evaluate runs the wrapped metrics')

    def evaluate(self, size: int) -> Dict[str, float]:
        """The wrapped metrics over this dataset's samples, keys ``<prefix>/<key>``."""
        seen = torch.tensor(self.seen)
        all_reduce(seen)  # every rank must take the same branch
        self.seen = 0
        if int(seen) == 0:
            raise ValueError(f'PerDatasetMetric: no validation sample has dataset_name '
                             f'{self.dataset_name!r}; use the dataset_name of one of the '
                             'mixed datasets\' metainfo (their layout files)')
        out = {}
        for metric in self.metrics:
            for key, value in metric.evaluate(size).items():
                out[f'{self.prefix}/{key}'] = value
        return out
