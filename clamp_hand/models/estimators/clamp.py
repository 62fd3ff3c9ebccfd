"""CLAMP: keypoints named by text prompts guide a top-down heatmap estimator.

Data flow (ViT-B/16, 256 px, K keypoints)::

    img (B,3,256,256) -> CLIPViT -> feats[i] (B,768,16,16), cls (B,512), v (B,512,16,16)
    text_encoder()                 -> t (K,512)          frozen CLIP text + learned contexts
    prompt_encoder(t)              -> t (K,512)          relations between the K prompts
    context_decoder(t, [cls; v])   -> t' (B,K,512)       prompts attend to the image
    S = <norm(v), norm(t')>        -> (B,K,16,16)        image-text score maps
    head(cat(feats[score_concat_index], S)) -> heatmaps (B,K,64,64)

Losses: heatmap MSE; spatial MSE of ``score_head(S)`` against the same targets; and the
contrastive loss between ``v`` sampled at the ground-truth keypoints and ``t'``.
``t`` does not depend on the image: it is computed once per training step (for all K prompts at
once) and cached outside training until any weight of the two text modules changes.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from clamp_hand.registry import MODELS
from .topdown_heatmap import TopdownHeatmapEstimator


@MODELS.register_module()
class CLAMPEstimator(TopdownHeatmapEstimator):
    """Args (beyond :class:`TopdownHeatmapEstimator`):
        text_encoder: ``KeypointPromptEncoder`` config; its ``prompts`` name the keypoints.
        prompt_encoder: ``PromptRelationEncoder`` config (None: skip).
        context_decoder: ``ContextDecoder`` config.
        score_head: deconv head upsampling the score maps to heatmap size (None: no spatial loss).
        loss_spatial, loss_feature: the two alignment losses (None: off).
        score_concat_index: which backbone feature map the score maps are concatenated to.
        cache_prompts: outside training, keep the prompt embeddings until a weight of the text
            modules changes (default True); False re-runs the text encoder at every forward
            (as the original implementation does; for on/off benchmarks).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 codec: dict,
                 text_encoder: dict,
                 context_decoder: dict,
                 prompt_encoder: Optional[dict] = None,
                 score_head: Optional[dict] = None,
                 loss_keypoint: dict = dict(type='KeypointMSELoss', loss_weight=1.0),
                 loss_spatial: Optional[dict] = dict(type='KeypointMSELoss', loss_weight=2.0),
                 loss_feature: Optional[dict] = dict(type='PromptContrastiveLoss', loss_weight=5e-4),
                 score_concat_index: int = -1,
                 cache_prompts: bool = True,
                 **kwargs):
        prompts = text_encoder.get('prompts')
        if not prompts:
            raise ValueError('model.text_encoder.prompts is not set: give one name per keypoint '
                             '(the configs take it from their dataset file\'s keypoint_prompts)')
        k_prompts = len(prompts)
        head = dict(head)
        head.setdefault('out_channels', k_prompts)
        super().__init__(backbone=backbone, head=head, codec=codec, loss_keypoint=loss_keypoint,
                         feature_index=score_concat_index, head_extra_in_channels=k_prompts,
                         **kwargs)
        self.text_encoder = MODELS.build(text_encoder)
        k_head = self.head.out_channels
        if k_prompts != k_head:
            raise ValueError(
                f'model.text_encoder.prompts has {k_prompts} entries but the model predicts '
                f'{k_head} keypoints (model.head.out_channels): give one prompt per keypoint, '
                'in the dataset\'s keypoint order')
        self.prompt_encoder = MODELS.build(prompt_encoder) if prompt_encoder else nn.Identity()
        self.context_decoder = MODELS.build(context_decoder)
        if score_head:  # score maps (K channels) -> heatmaps (K channels)
            score_head = dict(score_head)
            score_head.setdefault('in_channels', k_prompts)
            score_head.setdefault('out_channels', k_prompts)
            score_head.setdefault('deconv_out_channels', (k_prompts, ) * len(
                score_head.get('deconv_kernel_sizes', (4, 4))))
        self.score_head = MODELS.build(score_head) if score_head else None
        self.loss_spatial = MODELS.build(loss_spatial) if loss_spatial and score_head else None
        self.loss_feature = MODELS.build(loss_feature) if loss_feature else None
        self.cache_prompts = cache_prompts
        self._prompt_cache: Optional[Tuple[tuple, Tensor]] = None
        self._set_attention_impl()  # again: the text modules were built after the base's call

    # ---- prompts --------------------------------------------------------------------------
    def _prompt_version(self, device, dtype) -> tuple:
        # In-place updates (optimizer steps, load_state_dict) bump a tensor's _version.
        params = list(self.text_encoder.parameters()) + list(self.prompt_encoder.parameters())
        return (device, dtype, torch.is_autocast_enabled(device.type)) + tuple(
            (p.data_ptr(), p._version) for p in params)

    def prompt_embeddings(self) -> Tensor:
        """``(K, C)`` prompt embeddings before image conditioning."""
        p = self.text_encoder.contexts
        if torch.is_grad_enabled() and self.training:
            return self.prompt_encoder(self.text_encoder())  # once per step, for all K prompts
        if not self.cache_prompts:
            with torch.no_grad():
                return self.prompt_encoder(self.text_encoder())
        key = self._prompt_version(p.device, p.dtype)
        if self._prompt_cache is None or self._prompt_cache[0] != key:
            with torch.no_grad():
                self._prompt_cache = (key, self.prompt_encoder(self.text_encoder()))
        return self._prompt_cache[1]

    def train(self, mode: bool = True):
        self._prompt_cache = None
        return super().train(mode)

    # ---- forward --------------------------------------------------------------------------
    def forward_features(self, inputs: Tensor,
                         prompts: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """All intermediate tensors of one forward (see the module docstring for shapes).
        ``prompts``: precomputed ``prompt_embeddings()`` ``(K,C)`` (e.g. folded into an
        exported graph); default: computed (cached outside training)."""
        feats, cls, dense = self.backbone(inputs)
        b, c, h, w = dense.shape
        if prompts is None:
            prompts = self.prompt_embeddings()
        prompts = prompts.to(dense.dtype).expand(b, -1, -1)  # (B,K,C)
        visual_tokens = torch.cat([cls[:, None], dense.flatten(2).transpose(1, 2)], dim=1)
        refined = self.context_decoder(prompts, visual_tokens)  # (B,K,C)
        score_maps = torch.einsum('bchw,bkc->bkhw', F.normalize(dense, dim=1),
                                  F.normalize(refined, dim=-1))
        head_in = torch.cat([feats[self.feature_index], score_maps.to(feats[0].dtype)], dim=1)
        return dict(feats=feats, cls=cls, dense=dense, prompts=refined, score_maps=score_maps,
                    heatmaps=self.head(head_in, self.skip_feature(feats)))

    def forward_heatmaps(self, inputs: Tensor) -> Tensor:
        return self.forward_features(inputs)['heatmaps']

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        t = self._targets(data_samples)
        out = self.forward_features(inputs)
        losses = dict(loss_heatmap=self.loss_keypoint(out['heatmaps'], t['heatmaps'], t['weights']))
        if self.loss_spatial is not None:
            losses['loss_spatial'] = self.loss_spatial(self.score_head(out['score_maps']),
                                                       t['heatmaps'], t['weights'])
        if self.loss_feature is not None:
            if 'keypoints' not in t:
                raise KeyError('the contrastive loss needs the keypoints in input pixels: add '
                               'PackPoseInputs(pack_transformed=True) to the train pipeline')
            visual = sample_at_keypoints(out['dense'], t['keypoints'], inputs.shape[-2:])
            losses['loss_feature'] = self.loss_feature(visual, out['prompts'], t['weights'])
        return losses


def sample_at_keypoints(dense: Tensor, keypoints: Tensor, input_hw) -> Tensor:
    """Bilinearly sample ``dense (B,C,h,w)`` at keypoints ``(B,K,2)`` given in input pixels
    (x, y) of an input of size ``input_hw``; returns ``(B,K,C)``. The feature map covers the
    input exactly (cell centres at ``(j + 0.5) * stride``)."""
    in_h, in_w = input_hw
    grid = torch.stack([keypoints[..., 0] / in_w, keypoints[..., 1] / in_h], dim=-1) * 2 - 1
    out = F.grid_sample(dense, grid[:, :, None].to(dense.dtype), mode='bilinear',
                        padding_mode='border', align_corners=False)  # (B,C,K,1)
    return out[..., 0].transpose(1, 2)
