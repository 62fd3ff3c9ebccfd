"""Inference from a checkpoint: ``init_model`` rebuilds the model, ``inference`` predicts the
keypoints of the hands in one image.

A checkpoint written by training carries what inference needs in its ``meta``: ``cfg`` (the
full config as data, incl. the prompts, the codec and the test pipeline; older checkpoints hold
it as text, read without executing it: ``clamp_hand.checkpoint``) and
``dataset_meta`` (keypoint names, skeleton, colours, flip pairs). So a config file is only
needed for checkpoints that lack them (or to override them).

Preprocessing is the config's own test pipeline (``GetBBoxCenterScale`` + ``TopdownAffine`` +
``PackPoseInputs``); decoding to image pixels is the estimator's ``predict`` (its codec).
"""
import copy
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from clamp_hand.checkpoint import config_from_checkpoint, read_checkpoint
from clamp_hand.datasets.keypoint_order import restore_keypoint_order
from clamp_hand.registry import MODELS, register_all_modules


def _find_pipeline(cfg: Config) -> list:
    """The test (else val) dataset pipeline of ``cfg``; wrappers (Concat/Repeat) are searched."""
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        while dataset is not None:
            if dataset.get('pipeline'):
                return list(dataset['pipeline'])
            inner = dataset.get('datasets')
            dataset = inner[0] if inner else dataset.get('dataset')
    for name in ('test_pipeline', 'val_pipeline'):
        if cfg.get(name):
            return list(cfg[name])
    raise KeyError('the config has no test pipeline (test_dataloader.dataset.pipeline, '
                   'val_dataloader.dataset.pipeline or test_pipeline): inference needs one '
                   'with GetBBoxCenterScale, TopdownAffine and PackPoseInputs')


def _find_metainfo(cfg: Config) -> Optional[dict]:
    """The dataset metainfo dict of ``cfg`` (keypoint_info, skeleton_info, ...), if any."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        while dataset is not None:
            if dataset.get('metainfo'):
                return dataset['metainfo']
            inner = dataset.get('datasets')
            dataset = inner[0] if inner else dataset.get('dataset')
    return cfg.get('dataset_info')


def load_inference_checkpoint(checkpoint: str, trust: bool = False) -> dict:
    """Read a checkpoint file to CPU as data (``clamp_hand.checkpoint.read_checkpoint``:
    tensors, plain data, numpy arrays); a file holding more is refused with
    ``UnsafeCheckpointError`` unless ``trust`` (the user's explicit opt-in)."""
    ckpt = read_checkpoint(checkpoint, map_location='cpu', trust=trust)
    if not isinstance(ckpt, dict):
        raise ValueError(f'checkpoint {checkpoint!r} holds a {type(ckpt).__name__}, not a dict '
                         'with state_dict (write it with tools/train.py)')
    return ckpt


def init_model(config: Union[str, Config, None] = None,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               trust: bool = False) -> torch.nn.Module:
    """Build a pose model in eval mode for inference.

    Args:
        config: config file or ``Config``; None takes the one stored in the checkpoint.
        checkpoint: ``.pth`` from training (None: random weights, then a config is required).
        device: e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: ``--cfg-options`` style overrides.
        trust: the checkpoint is a file the user trusts (``--trust-checkpoint``): unpickle it
            in full, and run a stored config text that is not a literal config. Without it a
            checkpoint is only ever read as data (``UnsafeCheckpointError`` otherwise).

    The model gets ``cfg`` (the config), ``dataset_meta`` (parsed keypoint metainfo) and
    ``pipeline`` (the test pipeline) attributes. ``model.pretrained`` is ignored: the weights
    come from the checkpoint.
    """
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from .runner import check_keypoint_layout, load_config
    register_all_modules()
    ckpt = load_inference_checkpoint(checkpoint, trust) if checkpoint else {}
    meta = ckpt.get('meta') or {}
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        check_keypoint_layout(cfg)
    elif config is not None:
        cfg = load_config(config, cfg_options)
    elif meta.get('cfg'):
        cfg = config_from_checkpoint(meta['cfg'], f'{checkpoint}: meta.cfg', trust)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
            restore_keypoint_order(cfg)
    else:
        where = f'checkpoint {checkpoint!r} carries no config (meta.cfg)' if checkpoint else \
            'no checkpoint was given'
        raise ValueError(f'{where}: pass the config file (init_model(config=...) or '
                         'tools/infer.py --config CONFIG)')

    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pretrained = None  # weights come from the checkpoint
    model = MODELS.build(model_cfg)
    if checkpoint:
        state = ckpt.get('state_dict', ckpt)
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise RuntimeError(f'checkpoint {checkpoint!r} does not fit the model of the config '
                               f'(another keypoint layout or architecture?): {e}') from None

    raw_meta = meta.get('dataset_meta')
    if raw_meta is None:
        info = _find_metainfo(cfg)
        if info is None:
            raise KeyError('neither the checkpoint (meta.dataset_meta) nor the config (a '
                           'dataset metainfo) says the keypoint names and skeleton')
        raw_meta = parse_pose_metainfo(info if isinstance(info, dict) else dict(info))
    dataset_meta = dict(raw_meta)
    if dataset_meta.get('num_keypoints', model.num_keypoints) != model.num_keypoints:
        raise ValueError(f'the dataset metainfo has {dataset_meta["num_keypoints"]} keypoints '
                         f'but the model predicts {model.num_keypoints}')
    model.metainfo.setdefault('flip_indices', dataset_meta.get('flip_indices'))
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    model.pipeline = Compose(_find_pipeline(cfg))
    return model.to(device).eval()


def keypoint_names(model) -> List[str]:
    """Names of the K keypoints in output order."""
    id2name = model.dataset_meta['keypoint_id2name']
    return [id2name[k] for k in range(model.num_keypoints)]


def _as_image(image) -> tuple:
    """``(BGR uint8 array (H,W,3), path or None)`` from a file path or an array."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            hint = ('(img * 255).round().clip(0, 255).astype(np.uint8) for values in 0..1'
                    if image.dtype.kind == 'f' else
                    '(img >> 8).astype(np.uint8) for 16-bit values' if image.dtype.itemsize == 2
                    else 'a conversion to 0..255 uint8')
            raise TypeError(f'image array has dtype {image.dtype} (values '
                            f'{image.min() if image.size else "-"}..'
                            f'{image.max() if image.size else "-"}); inference expects a BGR '
                            'uint8 array (H, W, 3) with values 0..255, as cv2.imread returns. '
                            f'Convert it first, e.g. {hint}')
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'image array must be (H, W, 3) BGR, got shape {image.shape}')
        return image, None
    import cv2
    path = str(image)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path!r} (missing or not an image)')
    return img, path


def preprocess(model, image, bboxes: Optional[np.ndarray] = None) -> dict:
    """Run the test pipeline on every hand box of one image and collate them into a batch
    (``inputs``: list of uint8 ``(3,H,W)`` BGR crops, ``data_samples``). ``bboxes``: ``(N,4)``
    ``x1,y1,x2,y2`` in image pixels; None: the whole image is one hand box."""
    img, path = _as_image(image)
    h, w = img.shape[:2]
    if bboxes is None:
        bboxes = np.array([[0, 0, w, h]], dtype=np.float32)
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    bad = (bboxes[:, 2] <= bboxes[:, 0]) | (bboxes[:, 3] <= bboxes[:, 1])
    if bad.any():
        raise ValueError(f'hand box {bboxes[bad][0].tolist()} is empty: boxes are x1,y1,x2,y2 '
                         'with x2 > x1 and y2 > y1 (image pixels)')
    items = []
    for i, box in enumerate(bboxes):
        info = dict(img=img, img_path=path, img_id=0, id=i, bbox=box[None],
                    bbox_score=np.ones(1, dtype=np.float32))
        info.update(model.dataset_meta)
        items.append(model.pipeline(info))
    return pseudo_collate(items)


@torch.no_grad()
def inference(model, image, bboxes: Optional[Sequence] = None,
              with_score_maps: bool = False) -> List[dict]:
    """Predict the keypoints of each hand box of one image.

    Args:
        model: from :func:`init_model`.
        image: file path or BGR ``uint8`` array ``(H,W,3)`` (OpenCV order); an array of
            another dtype (float 0..1, uint16) raises ``TypeError`` naming its dtype.
        bboxes: ``(N,4)`` hand boxes ``x1,y1,x2,y2`` in image pixels; None: the whole image.
        with_score_maps: also return the image-text score maps (CLAMP models only).

    Returns one dict per hand: ``keypoints (K,2)`` in image pixels, ``scores (K,)`` (heatmap
    maxima), ``keypoint_names`` (K), ``bbox (4,)`` x1,y1,x2,y2; with ``with_score_maps``:
    ``score_maps (K,h,w)`` cosine similarities of the crop's patch embeddings with the
    refined prompt embeddings (unflipped view), ``prompts`` (K texts) and ``crop`` (the model
    input, ``(H,W,3)`` RGB uint8).
    """
    if with_score_maps and not hasattr(model, 'text_encoder'):
        raise ValueError(f'{type(model).__name__} has no text prompts: prompt similarity maps '
                         'need a CLAMP model')
    raw = preprocess(model, image, bboxes)
    data = model.data_preprocessor(raw, False)
    samples = model.predict(data['inputs'], data['data_samples'])
    names = keypoint_names(model)
    score_maps = None
    if with_score_maps:
        score_maps = model.forward_features(data['inputs'])['score_maps'].float().cpu().numpy()
    hands = []
    for i, s in enumerate(samples):
        hand = dict(keypoints=np.asarray(s.pred_instances.keypoints[0], dtype=np.float32),
                    scores=np.asarray(s.pred_instances.keypoint_scores[0], dtype=np.float32),
                    keypoint_names=names,
                    bbox=np.asarray(s.gt_instances.bboxes[0], dtype=np.float32))
        if score_maps is not None:
            crop = raw['inputs'][i].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
            hand.update(score_maps=score_maps[i], prompts=list(model.text_encoder.prompts),
                        crop=np.ascontiguousarray(crop))
        hands.append(hand)
    return hands


def decode_to_image(codec, heatmaps: np.ndarray, data_samples) -> List[tuple]:
    """Decode ``heatmaps (B,K,h,w)`` of crops with ``codec`` to ``(keypoints (K,2) in image
    pixels, scores (K,))`` per sample (the same mapping as the estimator's ``predict``)."""
    out = []
    for hm, sample in zip(heatmaps, data_samples):
        kpts, scores = codec.decode(hm)  # (1,K,2) crop pixels, (1,K)
        meta = sample.metainfo
        size = np.asarray(meta['input_size'], dtype=np.float32)
        scale = np.asarray(meta['input_scale'], dtype=np.float32).reshape(-1)
        center = np.asarray(meta['input_center'], dtype=np.float32).reshape(-1)
        out.append(((kpts[0] / size * scale + center - 0.5 * scale).astype(np.float32),
                    scores[0].astype(np.float32)))
    return out


def to_coco_result(hand: dict, image_id: int, file_name: Optional[str] = None) -> dict:
    """One hand as a COCO keypoint result: ``keypoints`` flat ``[x, y, score] * K``,
    ``score`` the mean keypoint score, ``bbox`` x,y,w,h."""
    flat = [v for (x, y), s in zip(hand['keypoints'].tolist(), hand['scores'].tolist())
            for v in (round(x, 3), round(y, 3), float(f'{s:.4g}'))]
    x1, y1, x2, y2 = (float(v) for v in hand['bbox'])
    out = dict(image_id=int(image_id), category_id=1,
               keypoints=flat, score=float(f"{hand['scores'].mean():.4g}"),
               bbox=[round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)])
    if file_name is not None:
        out['file_name'] = file_name
    return out


__all__ = ['decode_to_image', 'init_model', 'inference', 'keypoint_names', 'preprocess',
           'to_coco_result']
