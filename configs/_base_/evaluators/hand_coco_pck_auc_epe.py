# The hand evaluators of every experiment config: COCO keypoint AP (OKS with the hand sigmas of
# the dataset metainfo, ground-truth boxes: no NMS), PCK@0.2 of the box size, AUC of PCK over
# 0..30 px and EPE (px), as mmpose's hand model zoo reports them.
val_evaluator = [
    # OKS with the hand sigmas of the metainfo; reads flat or nested ([[x, y, v], ..]) keypoints
    dict(type='HandCocoMetric', nms_mode='none'),
    dict(type='PCKAccuracy', thr=0.2, norm_item='bbox'),
    dict(type='AUC', norm_factor=30),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
