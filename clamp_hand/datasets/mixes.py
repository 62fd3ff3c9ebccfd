"""Mixes: several benchmarks trained and validated as one dataset (mmpose ``CombinedDataset``),
with their metrics over the whole mix and per benchmark.

Each part keeps its own annotation format and keypoint order; ``hand_layouts.mix_part`` adds a
``KeypointConverter`` into the mix's layout whose mapping is computed from the keypoint names.
The parts' files come from the benchmark table (``benchmarks.BENCHMARKS``), as those of the
single-benchmark configs do. The mix configs (``configs/_base_/benchmarks/hand5_*.py``,
``assemblyhands_interhand2d_*.py``) call :func:`dataloader_datasets` and :func:`mix_metrics`.
"""
from typing import Dict, List, NamedTuple, Sequence, Tuple

from mmpose.evaluation.metrics import CocoMetric

from clamp_hand.datasets.benchmarks import SPLITS, dataset_config
from clamp_hand.datasets.hand_layouts import mix_part
from clamp_hand.registry import METRICS


class Mix(NamedTuple):
    """parts: benchmark names (keys of ``benchmarks.BENCHMARKS``, also their layout names).
    val_split / test_split: the parts' split the mix is validated / tested on (mmpose's Hand5
    configs validate and test on each part's test split, where COCO-WholeBody-Hand and Halpe
    read their val files: ``benchmarks.BENCHMARKS``)."""
    parts: Tuple[str, ...]
    val_split: str = 'val'
    test_split: str = 'test'


MIXES: Dict[str, Mix] = {
    # mmpose's RTMPose "Hand5" (configs/hand_2d_keypoint/rtmpose/hand5/ of mmpose 1.x)
    # (val = test: COCO-WholeBody val, OneHand10K test, FreiHAND test, RHD test, Halpe val)
    'hand5': Mix(('coco_wholebody_hand', 'onehand10k', 'freihand', 'rhd2d', 'halpe_hand'),
                 val_split='test'),
    # both hands per instance, 42 keypoints
    'assemblyhands_interhand2d': Mix(('assemblyhands_twohands', 'interhand2d_twohands')),
}


def benchmark_part(name: str, split: str, target_info: dict) -> dict:
    """One part of a mix: benchmark ``name``'s dataset of ``split`` in its own layout, its
    keypoints converted by name into ``target_info``'s layout (``hand_layouts.mix_part``);
    ``test_mode`` off for the training split only."""
    return mix_part(name, target_info, test_mode=split != 'train', **dataset_config(name, split))


def mix_dataset(name: str, split: str, target_info: dict) -> dict:
    """The ``CombinedDataset`` config of mix ``name`` (:data:`MIXES`) for ``split``: its parts
    converted into ``target_info``'s layout; the mix's metainfo is ``target_info`` named
    ``name`` (the keypoints every part is converted to).

    Raises:
        KeyError: ``name`` is not in :data:`MIXES` (the message lists the known mixes).
    """
    if name not in MIXES:
        raise KeyError(f'no mix named {name!r} in {__name__}.MIXES (known: {", ".join(MIXES)})')
    mix = MIXES[name]
    part_split = {'val': mix.val_split, 'test': mix.test_split}.get(split, split)
    return dict(type='CombinedDataset', metainfo=dict(target_info, dataset_name=name),
                datasets=[benchmark_part(p, part_split, target_info) for p in mix.parts])


def dataloader_datasets(name: str, target_info: dict) -> Tuple[dict, dict, dict]:
    """``(train_dataloader, val_dataloader, test_dataloader)`` settings of a mix config, each
    ``dict(dataset=<mix_dataset>)``, to be merged into the loaders of a base that sets batch
    size, sampler and pipeline (the pipeline runs after each part's own converter)."""
    return tuple(dict(dataset=mix_dataset(name, split, target_info)) for split in SPLITS)


def _reads_coco_ground_truth(metric: dict) -> bool:
    metric_type = METRICS.get(metric['type'])
    return isinstance(metric_type, type) and issubclass(metric_type, CocoMetric)


def mix_metrics(metrics: Sequence[dict], dataloader: dict) -> List[dict]:
    """The evaluator of a mix: ``metrics`` without COCO AP, over the whole mix, then once per
    part (``PerDatasetMetric``, keys ``<dataset_name>/<key>``, e.g. ``rhd2d/PCK``).

    COCO AP is left out: the ground truth a ``CocoMetric`` (or a subclass such as
    ``HandCocoMetric``) reads stays in each part's own keypoint order. ``dataloader``: the
    validation loader settings (``dict(dataset=<CombinedDataset config>)``), whose parts' metainfo
    gives the dataset names.
    """
    kept = [m for m in metrics if not _reads_coco_ground_truth(m)]
    return kept + [dict(type='PerDatasetMetric', dataset_name=part['metainfo']['dataset_name'],
                        metrics=kept) for part in dataloader['dataset']['datasets']]


__all__ = ['MIXES', 'Mix', 'benchmark_part', 'dataloader_datasets', 'mix_dataset',
           'mix_metrics']
