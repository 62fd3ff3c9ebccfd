"""Checks a run does once, before any model or Runner is built, so that bad data and settings
fail in seconds with one message instead of after the model was built or the first epoch
was trained.

:func:`preflight` (called by ``build_runner``), in this order:

1. :func:`check_data_files`: every annotation file, image folder and other data file the run's
   dataloaders name exists; one ``MissingDataError`` names each missing path, the config key
   pointing to it and how to get it (``data/README.md``, the converter command).
2. the datasets of the run are built (their annotation checks run: README "Bad data"), and
   handed to the Runner afterwards (:func:`attach_prebuilt`), so nothing is loaded twice;
3. :func:`check_batch_fits`: a training set smaller than one batch with ``drop_last=True``
   (mmengine would stop with ``epoch_length must be a positive integer, but got 0``);
4. :func:`check_metrics_read_their_data`: each configured metric is run on the ground truth
   of the first few evaluation samples (ground truth given as the prediction), so a metric
   that cannot read its annotation file (e.g. COCO AP on RHD's nested keypoints) fails now,
   naming the file, the metric and the reason, not at the end of the first validation.

Under a launcher every process runs the checks; only rank 0 reports a failure (the others
exit with status 1 without a message). Config switch: ``preflight = dict(metrics=False)``
skips step 4 (``num_samples=N`` sets how many samples it uses, default 4).
"""
import copy
import os
import os.path as osp
import tempfile
import weakref
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import itertools

import numpy as np

WRAPPERS = ('ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset', 'CombinedDataset')
LOADERS = dict(train=('train_dataloader', 'val_dataloader'), test=('test_dataloader', ),
               val=('val_dataloader', ))

# where a dataset comes from: (substring of the path, how to get it); first match wins
DATA_SOURCES = (
    ('synthhands', 'render it: bash tools/quickstart.sh, or python '
     'tools/dataset_converters/make_synthhands.py --out DIR --hands 1 --num-train N '
     '--num-val M --size PX --seed S'),
    ('hand_samples', 'the real hand samples of ../shared/data/hand_samples (a checkout with '
     'the shared folder beside it)'),
    ('assemblyhands', 'download AssemblyHands (see data/README.md), then python '
     'tools/dataset_converters/assemblyhands2coco.py '
     'data/assemblyhands/annotations/assemblyhands_train_ego_data_v1-1.json --out-dir '
     'data/assemblyhands/annotations (and the same for val/test)'),
    ('data/hands/', "the AssemblyHands files in the seed's (Hand-CLAMP) layout (see "
     'data/README.md): python tools/dataset_converters/assemblyhands2coco.py '
     'ORIGINAL_JSON --out-dir data/hands/annotations'),
    ('_hands.json', 'download COCO-WholeBody (see data/README.md), then python '
     'tools/dataset_converters/coco_wholebody2hands.py '
     'data/coco/annotations/coco_wholebody_val_v1.0.json '
     'data/coco/annotations/coco_wholebody_val_v1.0_hands.json'),
    ('interhand', 'download InterHand2.6M (see data/README.md); no conversion needed'),
    ('onehand10k', 'download OneHand10K (see data/README.md)'),
    ('coco', 'download COCO / COCO-WholeBody (see data/README.md)'),
)


_HUBS = itertools.count()


class MissingDataError(FileNotFoundError):
    """Data files a config needs are missing (the message lists each one)."""


class PreflightError(RuntimeError):
    """A check before the run failed (the message says what and how to fix it)."""


def _rank() -> int:
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', 0)))


def how_to_get(path: str) -> str:
    """A hint on where the dataset holding ``path`` comes from (``DATA_SOURCES``)."""
    low = path.replace('\\', '/').lower()
    for key, hint in DATA_SOURCES:
        if key in low:
            return hint
    return 'see data/README.md for the datasets and the layout the configs expect'


def _join(root: Optional[str], path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def dataset_data_paths(dataset_cfg, key: str) -> Iterator[Tuple[str, str, str]]:
    """``(config key, path, 'file' or 'folder')`` of each data path a dataset config names:
    ``ann_file`` and other ``*_file`` entries, ``data_prefix`` folders; the datasets inside
    wrappers (Concat/Repeat/ClassBalanced/Combined) too. Paths are joined with ``data_root``
    as mmengine's ``BaseDataset`` joins them."""
    if not isinstance(dataset_cfg, dict):
        return
    inner = dataset_cfg.get('datasets')
    if isinstance(inner, (list, tuple)):
        for i, sub in enumerate(inner):
            yield from dataset_data_paths(sub, f'{key}.datasets.{i}')
    if isinstance(dataset_cfg.get('dataset'), dict):
        yield from dataset_data_paths(dataset_cfg['dataset'], f'{key}.dataset')
    if dataset_cfg.get('type') in WRAPPERS:
        return
    root = dataset_cfg.get('data_root')
    for name, value in dataset_cfg.items():
        if name.endswith('_file') and isinstance(value, str) and value:
            # mmpose joins ann_file and InterHand's camera/joint files with data_root, not bbox_file
            yield f'{key}.{name}', value if name == 'bbox_file' else _join(root, value), 'file'
    prefix = dataset_cfg.get('data_prefix')
    if isinstance(prefix, dict):
        for name, value in prefix.items():
            if isinstance(value, str):
                yield f'{key}.data_prefix.{name}', _join(root, value) or '.', 'folder'


def check_data_files(cfg, loaders: Sequence[str], config_path: str = '<config>') -> None:
    """Raise :class:`MissingDataError` naming every missing data path of ``loaders`` (e.g.
    ``('train_dataloader', 'val_dataloader')``), its config key and how to get it."""
    missing, seen = [], set()
    for loader in loaders:
        dataset = (cfg.get(loader) or {}).get('dataset')
        for key, path, kind in dataset_data_paths(dataset, f'{loader}.dataset'):
            exists = osp.isdir(path) if kind == 'folder' else osp.isfile(path)
            if exists or (path, kind) in seen:
                continue
            seen.add((path, kind))
            missing.append((key, path, kind))
    if not missing:
        return
    lines = [f'{config_path}: {len(missing)} data path(s) this run needs do not exist '
             f'(relative paths are read from {os.getcwd()}):']
    for key, path, kind in missing:
        lines.append(f'  - {kind} {path}  ({key})\n      how to get it: {how_to_get(path)}')
    lines.append('Fix the paths in the config (or --cfg-options KEY=PATH), or put the data '
                 'there; nothing was built or written.')
    raise MissingDataError('\n'.join(lines))


def build_datasets(cfg, loaders: Sequence[str]) -> Dict[str, object]:
    """Build the dataset of each loader (annotation checks run now); ``{loader: dataset}``."""
    from clamp_hand.datasets import install_annotation_checks
    from clamp_hand.registry import DATASETS
    install_annotation_checks()  # dataset types registered by the config's custom_imports
    built = {}
    for loader in loaders:
        dataset_cfg = (cfg.get(loader) or {}).get('dataset')
        if isinstance(dataset_cfg, dict):
            built[loader] = DATASETS.build(copy.deepcopy(dataset_cfg))
    return built


def check_batch_fits(cfg, train_dataset, world_size: int = 1) -> None:
    """Raise ``ValueError`` when each process gets fewer training samples than one batch and
    ``drop_last=True`` (an epoch of zero iterations)."""
    loader = cfg.get('train_dataloader') or {}
    batch = int(loader.get('batch_size', 1))
    drop_last = bool(loader.get('drop_last', False))
    n = len(train_dataset)
    per_rank = -(-n // max(world_size, 1))
    # an InfiniteSampler (iteration-based loops) fills every batch whatever the dataset size
    infinite = 'Infinite' in str((loader.get('sampler') or {}).get('type', ''))
    if drop_last and not infinite and per_rank < batch or n == 0:
        where = f' ({per_rank} per process over {world_size} processes)' if world_size > 1 else ''
        raise ValueError(
            f'the training set has {n} samples{where}, fewer than one batch '
            f'(train_dataloader.batch_size={batch}) and train_dataloader.drop_last='
            f'{drop_last}: every epoch would have 0 iterations. Lower batch_size to at most '
            f'{max(per_rank, 1)}, set drop_last=False, or use more data.')


def _metric_file(metric, dataset) -> Optional[str]:
    coco = getattr(metric, 'coco', None)
    for candidate in (getattr(metric, 'ann_file', None),
                      getattr(dataset, 'ann_file', None) if coco is not None else None):
        if candidate:
            return candidate
    files = sorted({getattr(d, 'ann_file', '') for d in _leaf_datasets(dataset)} - {''})
    return ', '.join(files) if files else None


def _leaf_datasets(dataset) -> List[object]:
    inner = getattr(dataset, 'datasets', None)
    if inner is not None:
        return [leaf for d in inner for leaf in _leaf_datasets(d)]
    if getattr(dataset, 'dataset', None) is not None:
        return _leaf_datasets(dataset.dataset)
    return [dataset]


def _first_indices(dataset, num: int) -> List[int]:
    """The first ``num`` indices of ``dataset``; of a mix (``CombinedDataset``,
    ``ConcatDataset``: ``.datasets`` laid end to end), the first ``num`` of each part, at any
    depth (a mix of mixes), so that every part's metrics meet their data."""
    parts = getattr(dataset, 'datasets', None)
    if not parts:
        return list(range(min(num, len(dataset))))
    out, start = [], 0
    for part in parts:
        out += [start + i for i in _first_indices(part, num)]
        start += len(part)
    return out


def _compute(metric) -> None:
    """``compute_metrics`` of ``metric`` on what it processed; a wrapper of other metrics
    (``PerDatasetMetric``: ``.metrics``) computes those instead."""
    from mmengine.evaluator import BaseMetric
    inner = getattr(metric, 'metrics', None)
    if isinstance(inner, list) and inner and all(isinstance(m, BaseMetric) for m in inner):
        for m in inner:
            _compute(m)
    elif metric.results:
        metric.compute_metrics(metric.results)


def ground_truth_samples(dataset, num: int) -> Tuple[list, list]:
    """The first ``num`` samples of an evaluation dataset through its pipeline, each with its
    ground truth copied in as the prediction (``pred_instances``: keypoints, scores 1, boxes):
    ``(data_batch, data_samples)`` as a ValLoop hands them to the evaluator."""
    from mmengine.structures import InstanceData
    inputs, samples = [], []
    for idx in _first_indices(dataset, num):
        item = dataset[idx]
        sample = item['data_samples']
        gt = sample.gt_instances
        kpts = np.asarray(gt.keypoints, dtype=np.float32)
        pred = InstanceData(keypoints=kpts, keypoint_scores=np.ones(kpts.shape[:2], np.float32))
        if 'bboxes' in gt:
            pred.bboxes = np.asarray(gt.bboxes, np.float32)
            pred.bbox_scores = np.ones(len(pred.bboxes), np.float32)
        sample.pred_instances = pred
        inputs.append(item['inputs'])
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples), samples


def check_metrics_read_their_data(evaluator_cfg, dataset, evaluator_key: str,
                                  num_samples: int = 4) -> None:
    """Run each metric of ``evaluator_cfg`` on the ground truth of the first ``num_samples``
    samples of ``dataset``; raise :class:`PreflightError` naming the metric, the annotation
    file it reads and the error when one fails. Output files of the metrics go to a
    temporary folder."""
    from mmengine.evaluator import Evaluator
    if not evaluator_cfg or len(dataset) == 0:
        return
    metrics = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [evaluator_cfg]
    data_batch, samples = ground_truth_samples(dataset, num_samples)
    with tempfile.TemporaryDirectory(prefix='clamp_hand_preflight_') as tmp:
        for i, metric_cfg in enumerate(metrics):
            metric_cfg = copy.deepcopy(dict(metric_cfg))
            name = metric_cfg.get('type', '?')
            for key in ('outfile_prefix', 'out_file'):
                if key in metric_cfg or name == 'CocoResultsDumper' and key == 'out_file':
                    metric_cfg[key] = osp.join(tmp, f'{i}_{key}.json')
            metric = None
            try:
                evaluator = Evaluator([metric_cfg])
                metric = evaluator.metrics[0]
                evaluator.dataset_meta = dataset.metainfo
                evaluator.process(data_samples=copy.deepcopy(samples), data_batch=data_batch)
                _compute(metric)
            except Exception as err:
                where = _metric_file(metric, dataset) if metric is not None else None
                raise PreflightError(
                    f'{evaluator_key}[{i}] ({name}) cannot score the evaluation data'
                    + (f' of {where}' if where else '')
                    + f': {type(err).__name__}: {err}. It was run on the ground truth of '
                    f'{len(samples)} evaluation sample(s) before any training step; fix the '
                    'annotation file or the metric settings (preflight=dict(metrics=False) '
                    'skips this check)') from err


def preflight(cfg, mode: str = 'train', config_path: str = '<config>',
              launcher: str = 'none') -> Dict[str, object]:
    """Run the checks of the module doc for a ``mode`` ('train' or 'test') run; returns the
    built datasets (``{loader name: dataset}``) for :func:`attach_prebuilt`. A failure is
    raised on rank 0; other ranks exit with status 1 without a message."""
    try:
        return _preflight(cfg, mode, config_path)
    except Exception:
        if launcher != 'none' and _rank() != 0:
            raise SystemExit(1)
        raise


def _preflight(cfg, mode: str, config_path: str) -> Dict[str, object]:
    from mmengine.logging import MessageHub
    loaders = [name for name in LOADERS[mode] if (cfg.get(name) or {}).get('dataset')]
    if mode == 'train' and not cfg.get('val_cfg'):
        loaders = [name for name in loaders if name != 'val_dataloader']
    check_data_files(cfg, loaders, config_path)
    # datasets publish their annotation file for CocoMetric on the current MessageHub: keep
    # what they publish apart, to hand it to the Runner's hub in attach_prebuilt
    hub = MessageHub.get_instance(f'clamp_hand_preflight_{next(_HUBS)}')  # new: current
    built = build_datasets(cfg, loaders)
    built['_published'] = {k: v for k, v in hub.runtime_info.items() if k.endswith('_ann_file')}
    if 'train_dataloader' in built:
        check_batch_fits(cfg, built['train_dataloader'], int(os.environ.get('WORLD_SIZE', 1)))
    options = dict(cfg.get('preflight') or {})
    if options.get('metrics', True):
        for loader, evaluator in (('val_dataloader', 'val_evaluator'),
                                  ('test_dataloader', 'test_evaluator')):
            if loader in built:
                check_metrics_read_their_data(cfg.get(evaluator), built[loader], evaluator,
                                              int(options.get('num_samples', 4)))
    return built


def attach_prebuilt(runner, built: Dict[str, object]) -> None:
    """Hand the datasets built by :func:`preflight` to ``runner`` (its dataloaders are built
    lazily from their config dicts; a built dataset in place of the ``dataset`` dict is used
    as it is), and publish their annotation files on the Runner's MessageHub for CocoMetric.
    The Runner's config (dumped, stored in checkpoints) keeps the dataset configs."""
    from clamp_hand.registry import DATASETS
    runner.message_hub.update_info_dict(dict(built.get('_published') or {}))
    for loader, dataset in built.items():
        attr = f'_{loader}'
        current = getattr(runner, attr, None)
        if loader.startswith('_') or not isinstance(current, dict):
            continue
        key = f'{loader}:{id(dataset)}'
        PREBUILT[key] = dataset
        # a new dict: the Runner's cfg (same object as the old one) must keep the real config
        setattr(runner, attr, dict(current, dataset=dict(type='PrebuiltDataset', key=key)))
    assert DATASETS.get('PrebuiltDataset') is not None


PREBUILT: Dict[str, object] = {}
_HANDED: Dict[str, 'weakref.ref'] = {}


def _register_prebuilt():
    from clamp_hand.registry import DATASETS

    if 'PrebuiltDataset' in DATASETS.module_dict:
        return

    @DATASETS.register_module(name='PrebuiltDataset')
    def prebuilt_dataset(key: str):
        """The dataset :func:`attach_prebuilt` stored under ``key`` (held strongly until the
        first build, then weakly: the Runner's dataloader keeps it)."""
        dataset = PREBUILT.pop(key, None)
        if dataset is None and key in _HANDED:
            dataset = _HANDED[key]()
        if dataset is None:
            raise KeyError(f'no prebuilt dataset {key!r}: PrebuiltDataset is internal to '
                           'clamp_hand.apis.preflight and not for configs')
        _HANDED[key] = weakref.ref(dataset)
        return dataset


_register_prebuilt()

__all__ = ['MissingDataError', 'PreflightError', 'attach_prebuilt', 'check_batch_fits',
           'check_data_files', 'check_metrics_read_their_data', 'dataset_data_paths',
           'how_to_get', 'preflight']
