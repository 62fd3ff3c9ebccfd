"""Pictures of training samples as the data pipeline delivers them (``tools/analysis/
browse_dataset.py``): the picture that shows a wrong keypoint order, a wrong flip pairing or a
misplaced heatmap before any training.

Each sample becomes one PNG of side-by-side panels, every panel the network's input crop
(``TopdownAffine`` output) enlarged to ``display_size``:

1. ``pipeline``: the phase's pipeline as configured (random augmentation included, seeded),
   keypoints in the layout's colours with their names, skeleton links;
2. ``heatmaps``: that sample's target heatmaps (``GenerateTarget``; train pipelines), each
   keypoint's map in its colour, over a grey copy of the crop;
3. ``no augmentation``: the pipeline without its random transforms;
4. ``flipped``: the same with a horizontal flip (mmpose ``RandomFlip``, probability 1). The
   flip swaps left and right keypoints (``flip_indices`` of the metainfo): a keypoint named
   ``left_*`` must sit on the hand that was the right one in panel 3.

Everything comes from mmpose's own transforms with the config's settings; only the drawing
is here.
"""
import copy
import os
import os.path as osp
import random
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .skeleton import _bgr

#: transforms left out of the "no augmentation" and "flipped" panels (besides any 'Random*')
PHOTOMETRIC = ('PhotometricDistortion', 'Albumentation', 'YOLOXHSVRandomAug')


def _is_random(t: dict) -> bool:
    name = str(t.get('type', '')).split('.')[-1]
    return name.startswith('Random') or name in PHOTOMETRIC


def pipeline_variants(pipeline: Sequence[dict]) -> Dict[str, List[dict]]:
    """``{'pipeline', 'no augmentation', 'flipped'}`` copies of a top-down pipeline, each
    packing the crop-space keypoints (``pack_transformed=True``).

    Raises:
        ValueError: the pipeline has no ``TopdownAffine`` (not a top-down pipeline).
    """
    names = [str(t.get('type', '')).split('.')[-1] for t in pipeline]
    if 'TopdownAffine' not in names:
        raise ValueError(f'the pipeline has no TopdownAffine (transforms: {names}); '
                         'browse_dataset shows top-down pipelines only')

    def packed(p):
        p = copy.deepcopy(list(p))
        for t in p:
            if str(t.get('type', '')).endswith('PackPoseInputs'):
                t['pack_transformed'] = True
        return p

    plain = [t for t in pipeline if not _is_random(t)]
    at = [str(t.get('type', '')).split('.')[-1] for t in plain].index('TopdownAffine')
    flipped = plain[:at] + [dict(type='RandomFlip', prob=1.0, direction='horizontal')] + \
        plain[at:]
    return {'pipeline': packed(pipeline), 'no augmentation': packed(plain),
            'flipped': packed(flipped)}


def _leaves(dataset) -> list:
    """Leaf datasets (or dataset configs) inside dataset wrappers (Concat, Repeat, ...), in
    order; built wrappers and their configs have the same ``datasets``/``dataset`` fields."""
    get = dataset.get if isinstance(dataset, dict) else lambda k: getattr(dataset, k, None)
    if get('datasets') is not None:
        return [leaf for d in get('datasets') for leaf in _leaves(d)]
    if get('dataset') is not None:
        return _leaves(get('dataset'))
    return [dataset]


class BrowseDataset:
    """The phase's dataset, built once, whose samples go through each ``pipeline_variants``
    entry: ``get(i)`` -> ``{variant name: packed result of sample i}``."""

    def __init__(self, dataset_cfg: dict):
        from mmengine.dataset import Compose

        from clamp_hand.registry import DATASETS
        self.dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
        self.metainfo = self.dataset.metainfo
        self.leaves = _leaves(self.dataset)
        leaf_cfgs = _leaves(dataset_cfg)
        assert len(leaf_cfgs) == len(self.leaves), (len(leaf_cfgs), len(self.leaves))
        self.pipelines = [{k: Compose(v) for k, v in
                           pipeline_variants(c.get('pipeline') or []).items()}
                          for c in leaf_cfgs]

    def __len__(self):
        return len(self.dataset)

    def get(self, index: int) -> Dict[str, dict]:
        out = {}
        for name in ('pipeline', 'no augmentation', 'flipped'):
            for leaf, p in zip(self.leaves, self.pipelines):
                leaf.pipeline = p[name]
            out[name] = self.dataset[index]
        return out


def _crop(packed) -> np.ndarray:
    """BGR uint8 (H,W,3) crop of a ``PackPoseInputs`` result."""
    img = packed['inputs']
    img = img.numpy() if hasattr(img, 'numpy') else np.asarray(img)
    return np.ascontiguousarray(img.transpose(1, 2, 0)).astype(np.uint8)


def _short(name: str) -> str:
    """Keypoint label: the name with ``_finger`` dropped (``left_middle_finger4`` ->
    ``left_middle4``)."""
    return name.replace('_finger', '')


def draw_keypoints_panel(packed, meta: dict, size: int, names: bool = True
                         ) -> Tuple[np.ndarray, List[dict]]:
    """One panel: the crop enlarged to ``size x size`` with links, keypoints (layout colours)
    and names. Returns ``(BGR uint8 (size,size,3), drawn)``; ``drawn`` lists each drawn
    keypoint as ``dict(index, name, xy=(x, y) panel pixels, color=BGR)``; keypoints with
    visibility 0 are not drawn."""
    crop = _crop(packed)
    h, w = crop.shape[:2]
    s = size / max(h, w)
    img = cv2.resize(crop, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_LINEAR)
    inst = packed['data_samples'].gt_instances
    kpts = np.asarray(inst.transformed_keypoints, np.float32)
    vis = np.asarray(inst.keypoints_visible, np.float32)
    id2name = meta['keypoint_id2name']
    colors = meta.get('keypoint_colors')
    links = meta.get('skeleton_links', [])
    link_colors = meta.get('skeleton_link_colors')
    radius = max(2, size // 90)
    drawn = []
    for k_inst, v_inst in zip(kpts, vis.reshape(len(kpts), -1)):
        # crop pixel centres: pixel i covers [i, i+1) -> (i + 0.5) * s - 0.5 in the panel
        pts = (k_inst + 0.5) * s - 0.5
        ok = v_inst > 0
        for j, (a, b) in enumerate(links):
            if ok[a] and ok[b]:
                c = _bgr(link_colors[j]) if link_colors is not None else (96, 96, 255)
                cv2.line(img, tuple(int(round(v)) for v in pts[a]),
                         tuple(int(round(v)) for v in pts[b]), c, 1, cv2.LINE_AA)
        for k in np.flatnonzero(ok):
            c = _bgr(colors[k]) if colors is not None else (0, 128, 255)
            xy = tuple(int(round(v)) for v in pts[k])
            cv2.circle(img, xy, radius, c, -1, cv2.LINE_AA)
            drawn.append(dict(index=int(k), name=id2name[int(k)], xy=xy, color=c))
    if names:
        for d in drawn:
            x, y = d['xy']
            org = (x + radius + 1, y - radius)
            cv2.putText(img, _short(d['name']), org, cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 0),
                        2, cv2.LINE_AA)
            cv2.putText(img, _short(d['name']), org, cv2.FONT_HERSHEY_SIMPLEX, 0.3, d['color'],
                        1, cv2.LINE_AA)
    return img, drawn


def draw_heatmap_panel(packed, meta: dict, size: int) -> Optional[np.ndarray]:
    """The target heatmaps ``(K,h,w)`` of a packed sample, each in its keypoint's colour
    (max over keypoints) over a grey crop, ``size x size`` BGR; None without heatmaps."""
    fields = packed['data_samples'].gt_fields
    if 'heatmaps' not in fields:
        return None
    hm = fields.heatmaps
    hm = np.asarray(hm.numpy() if hasattr(hm, 'numpy') else hm, np.float32)  # (K,h,w)
    crop = _crop(packed)
    h, w = crop.shape[:2]
    s = size / max(h, w)
    out_wh = (int(round(w * s)), int(round(h * s)))
    grey = cv2.cvtColor(cv2.cvtColor(cv2.resize(crop, out_wh), cv2.COLOR_BGR2GRAY),
                        cv2.COLOR_GRAY2BGR).astype(np.float32) * 0.5
    colors = meta.get('keypoint_colors')
    color_map = np.zeros(out_wh[::-1] + (3,), np.float32)
    for k in range(len(hm)):
        m = cv2.resize(hm[k], out_wh, interpolation=cv2.INTER_LINEAR)[..., None]
        c = np.asarray(_bgr(colors[k]) if colors is not None else (0, 0, 255), np.float32)
        color_map = np.maximum(color_map, np.clip(m, 0, 1) * c)
    return np.clip(grey + color_map, 0, 255).astype(np.uint8)


def _titled(img: np.ndarray, title: str, bar: int = 18) -> np.ndarray:
    out = np.full((img.shape[0] + bar, img.shape[1], 3), 255, np.uint8)
    out[bar:] = img
    cv2.putText(out, title, (4, bar - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    return out


def render_sample(samples: Dict[str, dict], meta: dict, size: int = 256,
                  names: bool = True) -> Tuple[np.ndarray, Dict[str, dict]]:
    """Side-by-side panels of one sample; ``samples`` maps ``'pipeline'``, ``'no
    augmentation'``, ``'flipped'`` to packed pipeline results of the same dataset index.
    Returns ``(BGR uint8 image, panels)``; ``panels[name]`` = ``dict(x0=left edge in the
    image, y0=top edge, drawn=[...])`` (``drawn`` as in ``draw_keypoints_panel``, in panel
    pixels: add ``x0, y0`` for image pixels)."""
    tiles, panels, x0 = [], {}, 0
    order = [('pipeline', 'pipeline'), ('heatmaps', 'pipeline'),
             ('no augmentation', 'no augmentation'), ('flipped', 'flipped')]
    for title, src in order:
        if title == 'heatmaps':
            img, drawn = draw_heatmap_panel(samples[src], meta, size), []
            if img is None:
                continue
        else:
            img, drawn = draw_keypoints_panel(samples[src], meta, size, names)
        if title == 'pipeline' and samples[src]['data_samples'].metainfo.get('flip'):
            title = 'pipeline (flipped)'
        tile = _titled(img, title)
        panels[title.split(' (')[0]] = dict(x0=x0, y0=tile.shape[0] - img.shape[0],
                                            drawn=drawn)
        tiles.append(tile)
        x0 += tile.shape[1] + 4
    height = max(t.shape[0] for t in tiles)
    row = []
    for i, t in enumerate(tiles):
        if i:
            row.append(np.full((height, 4, 3), 255, np.uint8))
        row.append(np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=255))
    return np.concatenate(row, axis=1), panels


def browse_dataset(cfg, out_dir: str, phase: str = 'train', num: int = 10, seed: int = 0,
                   size: int = 256, names: bool = True) -> List[Tuple[str, Dict[str, dict]]]:
    """Write one PNG per sample (the first ``num`` of the ``phase`` dataset) to ``out_dir``.

    Args:
        cfg: a loaded config (``clamp_hand.apis.load_config``).
        phase: ``'train'`` (``train_dataloader``) or ``'val'`` (``val_dataloader``).
        seed: seeds Python's and NumPy's generators (the random augmentation of panel 1).

    Returns:
        ``[(png path, panels)]`` (``panels`` as in ``render_sample``).

    Raises:
        ValueError: unknown phase, or the config has no such data loader.
    """
    from clamp_hand.registry import register_all_modules
    register_all_modules()
    if phase not in ('train', 'val'):
        raise ValueError(f"--phase {phase!r}: use 'train' or 'val'")
    loader = cfg.get(f'{phase}_dataloader')
    if not loader or not loader.get('dataset'):
        raise ValueError(f'{cfg.filename}: no {phase}_dataloader.dataset to browse')
    dataset_cfg = loader['dataset']
    data = BrowseDataset(dataset_cfg.to_dict() if hasattr(dataset_cfg, 'to_dict')
                         else dict(dataset_cfg))
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for i in range(min(num, len(data))):
        random.seed(seed + i)
        np.random.seed(seed + i)
        samples = data.get(i)
        img, panels = render_sample(samples, data.metainfo, size, names)
        stem = osp.splitext(osp.basename(samples['pipeline']['data_samples'].img_path))[0]
        path = osp.join(out_dir, f'{phase}_{i:04d}_{stem}.png')
        cv2.imwrite(path, img)
        written.append((path, panels))
    return written
