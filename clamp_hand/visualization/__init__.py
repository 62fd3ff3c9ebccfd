"""Pictures of predictions: skeletons, prompt similarity maps, training curves; pictures of
training samples after the data pipeline (dataset_browser)."""
from .curves import plot_curves, read_scalars
from .dataset_browser import browse_dataset, render_sample
from .prompt_maps import plot_prompt_maps
from .skeleton import draw_hand

__all__ = ['browse_dataset', 'draw_hand', 'plot_curves', 'plot_prompt_maps', 'read_scalars',
           'render_sample']
