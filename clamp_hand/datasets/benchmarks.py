"""Where each benchmark's files lie: the one table of dataset type, data root, annotation files
and image folders per split, and the per-split dataset configs built from it.

The benchmark configs (``configs/_base_/benchmarks/``) and the mixes (``mixes.py``: Hand5, the
two-hand mix) read their files from :data:`BENCHMARKS` only, so a path is written once. The
layouts are those of mmpose's dataset zoo (``docs/en/dataset_zoo/2d_hand_keypoint.md`` of
mmpose 1.x: OneHand10K, FreiHAND, RHD, CMU Panoptic, COCO-WholeBody, Halpe, InterHand2.6M) and
of this project's converters (AssemblyHands, COCO-WholeBody hands); ``data/README.md`` shows
them as trees and says where to download each.

A benchmark's name is also the name of its keypoint layout in
``hand_layouts.DATASET_NAMES``: the layout its samples carry as a part of a mix.

To read a copy that lies elsewhere, override ``data_root`` of each loader's dataset
(``--cfg-options train_dataloader.dataset.data_root=/data/frei/ val_dataloader.dataset...``)
or change the entry here.
"""
from typing import Dict, NamedTuple, Optional, Tuple, Union

SPLITS = ('train', 'val', 'test')
# which annotation split each config split reads (config split -> file split)
ALL_SPLITS = {'train': 'train', 'val': 'val', 'test': 'test'}
# no validation labels: validate on the test split (as mmpose's configs of these benchmarks)
NO_VAL_SPLIT = {'train': 'train', 'val': 'test', 'test': 'test'}
# no public test labels: test on the validation split
NO_TEST_SPLIT = {'train': 'train', 'val': 'val', 'test': 'val'}


class Benchmark(NamedTuple):
    """The files of one benchmark. Paths are relative to ``data_root``; ``{split}`` in
    ``ann_file``, ``img`` and ``extra_files`` stands for the file split (see ``splits``).

    type: dataset type in the ``clamp_hand`` registry scope (mmpose's or this project's).
    data_root: the benchmark's folder (``data/README.md``).
    ann_file: annotation file (COCO-style json; InterHand2.6M: its ``*_data.json``).
    img: image folder, mmpose's ``data_prefix['img']`` (file names in the json are below it);
        a str with ``{split}``, or one folder per file split.
    splits: config split (train/val/test) -> the file split it reads.
    extra_files: more file arguments of the dataset type (InterHand2.6M's camera parameters
        and 3D joints), each a path with ``{split}``.
    """
    type: str
    data_root: str
    ann_file: str
    img: Union[str, Dict[str, str]]
    splits: Dict[str, str] = ALL_SPLITS
    extra_files: Dict[str, str] = {}


_INTERHAND = 'annotations/all/InterHand2.6M_{split}'
_HALPE_IMAGES = {'train': 'hico_20160224_det/images/train2015/', 'val': 'val2017/'}

BENCHMARKS: Dict[str, Benchmark] = {
    # mmpose's OneHand10K COCO jsons: images under Train/, Test/ (named in the json)
    'onehand10k': Benchmark('OneHand10KDataset', 'data/onehand10k/',
                            'annotations/onehand10k_{split}.json', '', NO_VAL_SPLIT),
    # tools/dataset_converters/coco_wholebody2hands.py output; COCO's train2017/, val2017/
    'coco_wholebody_hand': Benchmark('HandKeypointDataset', 'data/coco/',
                                     'annotations/coco_wholebody_{split}_v1.0_hands.json',
                                     '{split}2017/', NO_TEST_SPLIT),
    # mmpose's FreiHAND jsons: file names include training/rgb/ or evaluation/rgb/
    'freihand': Benchmark('FreiHandDataset', 'data/freihand/',
                          'annotations/freihand_{split}.json', ''),
    # mmpose's RHD jsons (nested keypoints): training/color/, evaluation/color/
    'rhd2d': Benchmark('Rhd2DDataset', 'data/rhd/', 'annotations/rhd_{split}.json', '',
                       NO_VAL_SPLIT),
    # mmpose's CMU Panoptic hand jsons (with head_size): hand143_panopticdb/, hand_labels/
    'panoptic_hand2d': Benchmark('PanopticHand2DDataset', 'data/panoptic/',
                                 'annotations/panoptic_{split}.json', '', NO_VAL_SPLIT),
    # the Halpe-FullBody release: HICO-DET train images, COCO val2017 validation images
    'halpe_hand': Benchmark('HalpeHandDataset', 'data/halpe/', 'annotations/halpe_{split}_v1.json',
                            _HALPE_IMAGES, NO_TEST_SPLIT),
    # tools/dataset_converters/assemblyhands2coco.py output, one hand per instance
    'assemblyhands_onehand': Benchmark(
        'HandKeypointDataset', 'data/assemblyhands/',
        'annotations/assemblyhands_{split}_ego_data_v1-1_onehand.json', 'images/'),
    # the same converter, both hands per instance
    'assemblyhands_twohands': Benchmark(
        'HandKeypointDataset', 'data/assemblyhands/',
        'annotations/assemblyhands_{split}_ego_data_v1-1_twohands.json', 'images/'),
    # the native InterHand2.6M release (no conversion): images/{split}/Capture*/...
    'interhand2d_twohands': Benchmark(
        'InterHand2DTwoHandsDataset', 'data/interhand2.6m/', _INTERHAND + '_data.json',
        'images/{split}/', extra_files=dict(camera_param_file=_INTERHAND + '_camera.json',
                                            joint_file=_INTERHAND + '_joint_3d.json')),
}


def benchmark(name: str) -> Benchmark:
    """The table entry of benchmark ``name``.

    Raises:
        KeyError: ``name`` is not in :data:`BENCHMARKS` (the message lists the known names).
    """
    if name not in BENCHMARKS:
        raise KeyError(f'no benchmark named {name!r} in {__name__}.BENCHMARKS (known: '
                       f'{", ".join(BENCHMARKS)}); add its dataset type and files there')
    return BENCHMARKS[name]


def dataset_config(name: str, split: str, metainfo: Optional[dict] = None) -> dict:
    """The dataset config of one split of benchmark ``name``: ``type``, ``data_root``,
    ``ann_file``, ``data_prefix`` (and the extra files), plus ``metainfo`` when given.

    Raises:
        KeyError: unknown benchmark (see :func:`benchmark`); ``split`` not train/val/test.
    """
    entry = benchmark(name)
    if split not in SPLITS:
        raise KeyError(f'split {split!r} of benchmark {name!r}: expected one of {SPLITS}')
    files = entry.splits[split]
    img = entry.img[files] if isinstance(entry.img, dict) else entry.img.format(split=files)
    config = dict(type=entry.type, data_root=entry.data_root,
                  ann_file=entry.ann_file.format(split=files), data_prefix=dict(img=img),
                  **{k: path.format(split=files) for k, path in entry.extra_files.items()})
    if metainfo is not None:
        config['metainfo'] = metainfo
    return config


def dataloader_datasets(name: str, metainfo: dict) -> Tuple[dict, dict, dict]:
    """``(train_dataloader, val_dataloader, test_dataloader)`` settings of a benchmark config:
    each ``dict(dataset=...)`` with that split's :func:`dataset_config` (with ``metainfo``), to
    be merged into the loaders of a base that sets batch size, sampler and pipeline
    (``configs/_base_/pipelines/topdown_heatmap_256x256.py``).

    Raises:
        ValueError: ``metainfo``'s keypoint names (in order) are not those of the benchmark's
            layout (``hand_layouts.DATASET_NAMES[name]``): its annotations would be read in
            another keypoint order, silently. The message names both orders' first difference.
    """
    from clamp_hand.datasets.hand_layouts import DATASET_NAMES
    benchmark(name)  # unknown names fail here, naming the table
    info = metainfo.get('keypoint_info') or {}
    given = [info[i]['name'] for i in sorted(info)]
    expected = DATASET_NAMES[name]() if name in DATASET_NAMES else None
    if expected is not None and given != expected:
        first = next((i for i, (a, b) in enumerate(zip(given, expected)) if a != b),
                     min(len(given), len(expected)))
        raise ValueError(
            f'benchmark {name!r} annotates {len(expected)} keypoints in the order of '
            f'clamp_hand.datasets.hand_layouts.DATASET_NAMES[{name!r}], but the metainfo given '
            f'({metainfo.get("dataset_name")!r}, {len(given)} keypoints) differs at index '
            f'{first}: {given[first] if first < len(given) else None!r} vs '
            f'{expected[first] if first < len(expected) else None!r}. Put the layout of '
            f'{name!r} in the base\'s _base_ (a configs/_base_/datasets/ file with '
            f'dataset_layout({name!r})).')
    return tuple(dict(dataset=dataset_config(name, split, metainfo)) for split in SPLITS)


__all__ = ['BENCHMARKS', 'Benchmark', 'SPLITS', 'benchmark', 'dataloader_datasets',
           'dataset_config']
