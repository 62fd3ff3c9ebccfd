"""Metrics: mmpose's CocoMetric (hand OKS sigmas from the dataset metainfo), PCKAccuracy,
AUC and EPE are used as they are; this package adds what they lack."""
from .results_dumper import CocoResultsDumper

__all__ = ['CocoResultsDumper']
