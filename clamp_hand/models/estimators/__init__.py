from .clamp import CLAMPEstimator, sample_at_keypoints
from .topdown_heatmap import TopdownHeatmapEstimator, flip_heatmaps

__all__ = ['CLAMPEstimator', 'TopdownHeatmapEstimator', 'flip_heatmaps', 'sample_at_keypoints']
