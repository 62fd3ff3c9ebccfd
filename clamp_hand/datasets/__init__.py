"""Data side: hand datasets (COCO-format), converters and the synthetic hand generator.
mmpose's datasets, transforms and codecs are used as they are, each COCO-style dataset type
with the annotation checks of ``HandKeypointDataset`` (``checked_datasets``)."""
from .checked_datasets import install_annotation_checks
from .hand_dataset import HandKeypointDataset
from .interhand2d import InterHand2DTwoHandsDataset

install_annotation_checks()  # mmpose's and this package's dataset types, as registered now

__all__ = ['HandKeypointDataset', 'InterHand2DTwoHandsDataset', 'install_annotation_checks']
