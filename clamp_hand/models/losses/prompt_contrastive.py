"""Feature-level alignment: symmetric InfoNCE between the visual embedding at each ground-
truth keypoint and the K prompt embeddings of the same instance."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from clamp_hand.registry import MODELS


@MODELS.register_module()
class PromptContrastiveLoss(nn.Module):
    """Args:
        loss_weight: the seed's ``CL_ratio`` (5e-4).
        init_temperature: the logit scale starts at ``1 / init_temperature`` and is learned
            (clamped at 100 as in CLIP).

    ``forward(visual (B,K,C), prompts (B,K,C), weights (B,K))``: keypoint i's visual feature
    should match prompt i among the K prompts (visual -> text) and prompt j should match the
    visual feature of keypoint j among the *labeled* keypoints (text -> visual). Rows of
    unlabeled keypoints are weighted 0, and their visual features are never used as negatives
    (they are sampled at meaningless places). Returns ``sum(w * (l_v + l_t) / 2) / (B * K)``:
    normalised by the number of slots, not by ``sum(w)``, so that averaging it over
    data-parallel processes equals the loss of the whole batch (as in the original).
    """

    def __init__(self, loss_weight: float = 5e-4, init_temperature: float = 0.07):
        super().__init__()
        self.loss_weight = loss_weight
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))

    def forward(self, visual: torch.Tensor, prompts: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        visual = F.normalize(visual.float(), dim=-1)
        prompts = F.normalize(prompts.float(), dim=-1)
        scale = self.logit_scale.clamp(max=math.log(100.0)).exp()
        logits = scale * torch.einsum('bic,bjc->bij', visual, prompts)  # (B, K_visual, K_text)
        b, k, _ = logits.shape
        labels = torch.arange(k, device=logits.device).expand(b, k)
        w = weights.float()
        loss_v = F.cross_entropy(logits.transpose(1, 2), labels, reduction='none')  # (B, K)
        # text -> visual: classes are the visual rows; unlabeled ones are pushed out of the
        # softmax with a large finite negative (not -inf, so an all-unlabeled instance stays finite)
        logits_t = logits.masked_fill((w <= 0)[:, :, None], -1e4)
        loss_t = F.cross_entropy(logits_t, labels, reduction='none')  # (B, K)
        return 0.5 * ((loss_v + loss_t) * w).sum() / w.numel() * self.loss_weight
