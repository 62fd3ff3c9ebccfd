"""The text-free counterpart of a CLAMP model config: the same image side, no text side.

The baseline configs (``configs/baselines/``, the quickstart's text-free ablation) derive their
model from the CLAMP config they inherit, so that the two differ only by the text alignment
(prompts, image-text score maps, score-map and contrastive losses); ``tests/test_benchmark.py``
compares each pair.
"""
from typing import Mapping

# CLAMPEstimator arguments that belong to the image side and mean the same on
# TopdownHeatmapEstimator (its __init__ arguments), copied where the CLAMP config sets them
IMAGE_SIDE = ('pretrained', 'pretrained_allow_missing', 'data_preprocessor', 'backbone', 'codec',
              'loss_keypoint', 'test_cfg', 'metainfo', 'attn_impl', 'init_cfg')


def text_free_model(clamp: Mapping) -> dict:
    """A ``TopdownHeatmapEstimator`` config with the image side of the ``CLAMPEstimator``
    config ``clamp``:

    - :data:`IMAGE_SIDE` entries as they are (``pretrained``: a full CLIP file fills the
      backbone; its text tower is skipped);
    - ``feature_index`` = ``clamp.score_concat_index``: the index into
      ``backbone.out_indices`` of the feature map CLAMP's head reads (3 -> block 11 in ViT-B/16);
    - ``head`` = CLAMP's head with ``out_channels`` = the number of prompts (CLAMP's default;
      kept where the head sets it), fed that block alone instead of the block concatenated with
      the K score maps.

    Left out: ``text_encoder``, ``prompt_encoder``, ``context_decoder``, ``score_head``,
    ``loss_spatial``, ``loss_feature``, ``cache_prompts``. In a config that inherits the CLAMP
    one, merge it with ``_delete_=True`` so that no CLAMP entry is left over.

    Raises:
        ValueError: ``clamp`` is not a ``CLAMPEstimator`` config, or sets no prompts.
    """
    if str(clamp.get('type', '')).split('.')[-1] != 'CLAMPEstimator':
        raise ValueError(f'text_free_model: expected a CLAMPEstimator model config, got type '
                         f'{clamp.get("type")!r}')
    prompts = (clamp.get('text_encoder') or {}).get('prompts')
    if not prompts:
        raise ValueError('text_free_model: the CLAMP config sets no model.text_encoder.prompts, '
                         'so its keypoint count is unknown; set them before deriving the '
                         'text-free model')
    head = dict(clamp['head'])
    head.setdefault('out_channels', len(prompts))
    return dict(type='TopdownHeatmapEstimator',
                **{key: clamp[key] for key in IMAGE_SIDE if key in clamp},
                feature_index=clamp.get('score_concat_index', -1), head=head)


__all__ = ['IMAGE_SIDE', 'text_free_model']
