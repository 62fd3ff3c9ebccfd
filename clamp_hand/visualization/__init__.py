"""Pictures of predictions: skeletons, prompt similarity maps, training curves."""
from .curves import plot_curves, read_scalars
from .prompt_maps import plot_prompt_maps
from .skeleton import draw_hand

__all__ = ['draw_hand', 'plot_curves', 'plot_prompt_maps', 'read_scalars']
