from .heatmap_mse import KeypointMSELoss
from .prompt_contrastive import PromptContrastiveLoss

__all__ = ['KeypointMSELoss', 'PromptContrastiveLoss']
