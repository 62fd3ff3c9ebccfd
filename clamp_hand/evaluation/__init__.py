"""Metrics: mmpose's CocoMetric (hand OKS sigmas from the dataset metainfo), PCKAccuracy,
AUC and EPE are used as they are; this package adds what they lack."""
from .ap10k_sigma_metric import AP10KSigmaCocoMetric
from .hand_coco_metric import HandCocoMetric
from .per_dataset_metric import PerDatasetMetric
from .results_dumper import CocoResultsDumper

__all__ = ['AP10KSigmaCocoMetric', 'HandCocoMetric', 'PerDatasetMetric', 'CocoResultsDumper']
