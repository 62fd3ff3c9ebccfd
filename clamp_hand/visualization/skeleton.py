"""Draw hand skeletons on an image with the per-finger colours of the dataset metainfo.

Colours come from ``parse_pose_metainfo`` output (``keypoint_colors``, ``skeleton_link_colors``,
RGB as in the ``configs/_base_/datasets`` files); images are OpenCV BGR ``uint8 (H,W,3)``.
"""
from typing import Optional, Sequence

import cv2
import numpy as np


def _bgr(rgb) -> tuple:
    r, g, b = (int(c) for c in rgb)
    return (b, g, r)


def line_widths(shape) -> tuple:
    """``(keypoint radius, link thickness)`` in pixels for an image of ``shape (H,W,...)``."""
    side = min(shape[:2])
    return max(2, int(round(side / 100))), max(1, int(round(side / 200)))


def draw_hand(img: np.ndarray,
              keypoints: np.ndarray,
              scores: np.ndarray,
              dataset_meta: dict,
              kpt_thr: float = 0.3,
              bbox: Optional[Sequence[float]] = None,
              radius: Optional[int] = None,
              thickness: Optional[int] = None) -> np.ndarray:
    """Draw one hand in place and return ``img``.

    Args:
        img: BGR ``uint8 (H,W,3)``.
        keypoints: ``(K,2)`` image pixels; scores: ``(K,)``.
        dataset_meta: parsed metainfo with ``skeleton_links``, ``skeleton_link_colors`` and
            ``keypoint_colors``.
        kpt_thr: keypoints scoring below it, and links touching them, are not drawn.
        bbox: ``x1,y1,x2,y2`` drawn as a thin grey box when given.
        radius, thickness: keypoint radius and link width (default: from the image size).
    """
    r_def, t_def = line_widths(img.shape)
    radius = radius or r_def
    thickness = thickness or t_def
    keypoints = np.asarray(keypoints, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    if len(keypoints) != len(scores):
        raise ValueError(f'{len(keypoints)} keypoints but {len(scores)} scores')
    if bbox is not None:
        x1, y1, x2, y2 = (int(round(float(v))) for v in bbox)
        cv2.rectangle(img, (x1, y1), (x2, y2), (160, 160, 160), 1, cv2.LINE_AA)
    visible = scores >= kpt_thr
    links = dataset_meta.get('skeleton_links', [])
    link_colors = dataset_meta.get('skeleton_link_colors', [(96, 96, 255)] * len(links))
    pts = [tuple(int(round(float(v))) for v in p) for p in keypoints]
    for (a, b), color in zip(links, link_colors):
        if visible[a] and visible[b]:
            cv2.line(img, pts[a], pts[b], _bgr(color), thickness, cv2.LINE_AA)
    kpt_colors = dataset_meta.get('keypoint_colors', [(255, 128, 0)] * len(pts))
    for k in np.flatnonzero(visible):
        cv2.circle(img, pts[k], radius, _bgr(kpt_colors[k]), -1, cv2.LINE_AA)
    return img
