"""Data side: hand datasets (COCO-format), converters and the synthetic hand generator.
mmpose's datasets, transforms and codecs are used as they are, each COCO-style dataset type
with the annotation checks of ``HandKeypointDataset`` (``checked_datasets``)."""
from .checked_datasets import install_annotation_checks
from .halpe_hand import HalpeHandDataset
from .hand_dataset import HandKeypointDataset
from .interhand2d import InterHand2DTwoHandsDataset
from .panoptic_hand2d import PanopticHand2DDataset


# after every dataset module of this package is imported: mmpose's and this package's types
install_annotation_checks()

__all__ = ['HalpeHandDataset', 'HandKeypointDataset', 'InterHand2DTwoHandsDataset',
           'PanopticHand2DDataset', 'install_annotation_checks']
