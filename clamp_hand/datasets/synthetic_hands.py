"""Synthetic hand keypoint datasets (COCO keypoints), for smoke tests and tutorials.

Each image shows one hand (right or left) or a right and a left hand together. A hand is an
articulated 3D skeleton (wrist, palm, thumb CMC/MCP/IP, finger MCP/PIP/DIP joints with
anatomical bone-length ratios and joint limits) dressed in tapered capsules (one per bone, a few
for the palm and the forearm) and thin triangles (palm fill, thumb web). The generator is four
modules, one per idea; this one writes datasets and re-exports the public names of the others:

* :mod:`clamp_hand.datasets.synthetic_hand_model`: skeleton, parts and labels, kinematics,
  random poses (hand-frame conventions);
* :mod:`clamp_hand.datasets.synthetic_render`: z-buffer rasteriser and shading (camera frame,
  supersampling);
* :mod:`clamp_hand.datasets.synthetic_scene`: presets, views, camera, backgrounds,
  compositing, one annotated image :func:`render_sample` (image coordinates, visibility rules).

Output of :func:`generate_dataset`::

    DIR/images/{train,val}/000000.jpg ...
    DIR/annotations/{train,val}.json      (COCO keypoints)

One annotation per image: ``bbox`` ``[x, y, w, h]`` is the tight box of the hands' visible
pixels (forearms excluded) and labeled keypoints, clipped to the image; ``area = w * h``;
one-hand images carry ``hand_type`` (``"right"``/``"left"``), two-hand images ``hand_boxes``
(``{"right": box or None, "left": box or None}``). The category's skeleton is 1-based (COCO).

Every image comes from its own ``numpy.random.Generator`` seeded with ``(seed, crc32(split),
index)``, so a dataset is byte-identical for a given seed whatever the number of workers.
"""
import json
import multiprocessing as mp
import os

import cv2

from .synthetic_hand_model import (JOINT_PARTS, KEYPOINT_NAMES, NUM_KEYPOINTS, NUM_PARTS,
                                   PART_FOREARM, PART_NAMES, PART_PALM, SKELETON, build_hand,
                                   coco_categories, decode_label, joint_labels,
                                   keypoint_names, part_label, sample_pose)
from .synthetic_render import palmar_boost
from .synthetic_scene import (DIFFICULTIES, difficulty_preset, image_rng,
                              random_background, render_sample)

__all__ = [  # this module's own functions, then the generator's public names re-exported
    'generate_dataset', 'generate_split', 'DIFFICULTIES', 'JOINT_PARTS', 'KEYPOINT_NAMES',
    'NUM_KEYPOINTS', 'NUM_PARTS', 'PART_FOREARM', 'PART_NAMES', 'PART_PALM', 'SKELETON',
    'build_hand', 'coco_categories', 'decode_label', 'difficulty_preset', 'image_rng',
    'joint_labels', 'keypoint_names', 'palmar_boost', 'part_label', 'random_background',
    'render_sample', 'sample_pose']


# ----------------------------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------------------------
def _render_one(args):
    """Worker: render image ``index`` and write it; returns its COCO image and annotation."""
    out_dir, split, index, size, num_hands, seed, difficulty = args
    s = render_sample(image_rng(seed, split, index), size=size, num_hands=num_hands,
                      difficulty=difficulty)
    file_name = f'{split}/{index:06d}.jpg'
    ok, buf = cv2.imencode('.jpg', s['image'], [cv2.IMWRITE_JPEG_QUALITY, s['jpeg_quality']])
    assert ok
    with open(os.path.join(out_dir, 'images', file_name), 'wb') as fh:
        fh.write(buf.tobytes())
    image = dict(id=index + 1, file_name=file_name, width=size, height=size)
    kp = s['keypoints']
    ann = dict(id=index + 1, image_id=index + 1, category_id=1, bbox=s['bbox'],
               area=round(s['bbox'][2] * s['bbox'][3], 2), iscrowd=0,
               num_keypoints=int((kp[:, 2] > 0).sum()),
               keypoints=[round(float(v), 2) if i % 3 != 2 else int(v)
                          for i, v in enumerate(kp.reshape(-1))])
    if num_hands == 1:
        ann['hand_type'] = s['hand_types'][0]
    else:  # the 42-keypoint layout fixes the sides; give each hand's own box as well
        ann['hand_boxes'] = dict(zip(s['hand_types'], s['hand_boxes']))
    return image, ann


def _worker_init():
    cv2.setNumThreads(1)


def generate_split(out_dir, split, num_images, size=128, num_hands=1, seed=0, workers=1,
                   progress=True, difficulty='hard'):
    """Render ``num_images`` images into ``out_dir/images/<split>/`` and write
    ``out_dir/annotations/<split>.json``; returns the COCO dict."""
    from tqdm import tqdm
    difficulty_preset(difficulty)
    os.makedirs(os.path.join(out_dir, 'images', split), exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    jobs = [(out_dir, split, i, size, num_hands, seed, difficulty) for i in range(num_images)]
    bar = dict(total=num_images, desc=f'synthhands {split}', disable=not progress, unit='img')
    if workers > 1 and num_images > 1:
        # not 'fork': a parent that already ran OpenCV's thread pool can deadlock its children
        ctx = mp.get_context('forkserver')
        ctx.set_forkserver_preload([__name__])
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            results = list(tqdm(pool.imap(_render_one, jobs, chunksize=8), **bar))
    else:
        results = [_render_one(j) for j in tqdm(jobs, **bar)]
    coco = dict(
        info=dict(description='CLAMP-Hand synthetic hands', split=split, seed=seed, size=size,
                  num_hands=num_hands, difficulty=difficulty,
                  keypoint_order='wrist first (OneHand10K)' + (', right hand then left hand' if num_hands == 2 else ''),
                  coordinates='pixels; pixel (c, r) covers [c, c+1) x [r, r+1)'),
        images=[r[0] for r in results], annotations=[r[1] for r in results],
        categories=coco_categories(num_hands))
    with open(os.path.join(out_dir, 'annotations', f'{split}.json'), 'w') as fh:
        json.dump(coco, fh, separators=(',', ':'))
    return coco


def generate_dataset(out_dir, num_train, num_val, size=128, num_hands=1, seed=0, workers=None,
                     progress=True, difficulty='hard'):
    """Write the train and val splits (see the module docstring); returns
    ``{'train': coco_dict, 'val': coco_dict}``. ``workers`` defaults to min(2, cpu count);
    ``difficulty`` names a preset of ``DIFFICULTIES``."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    return {split: generate_split(out_dir, split, n, size, num_hands, seed, workers, progress,
                                  difficulty)
            for split, n in (('train', num_train), ('val', num_val))}

