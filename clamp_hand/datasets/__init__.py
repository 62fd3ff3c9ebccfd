"""Data side: hand datasets (COCO-format), converters and the synthetic hand generator.
mmpose's datasets, transforms and codecs are used as they are."""
from .halpe_hand import HalpeHandDataset
from .hand_dataset import HandKeypointDataset
from .interhand2d import InterHand2DTwoHandsDataset
from .panoptic_hand2d import PanopticHand2DDataset

__all__ = ['HalpeHandDataset', 'HandKeypointDataset', 'InterHand2DTwoHandsDataset',
           'PanopticHand2DDataset']
