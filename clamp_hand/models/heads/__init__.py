from .heatmap_head import DeconvHeatmapHead

__all__ = ['DeconvHeatmapHead']
