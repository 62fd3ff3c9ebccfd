# The data side every 256x256 benchmark base (configs/_base_/benchmarks/) shares: the top-down
# heatmap pipelines and loaders (16 images per GPU for training, 32 for evaluation) and the hand
# evaluators. A benchmark base adds a keypoint layout and each loader's dataset.
_base_ = [
    './pipelines/topdown_heatmap_256x256.py',
    './evaluators/hand_coco_pck_auc_epe.py',
]
