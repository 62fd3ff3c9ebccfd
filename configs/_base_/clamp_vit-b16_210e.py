# What every CLAMP ViT-B/16 experiment config shares: runtime, the seed's 210-epoch AdamW
# schedule, the model, the 256x256 top-down pipelines and loaders (4 GPUs x 16 images) and the
# hand evaluators. An experiment config adds a dataset layout (configs/_base_/datasets/), sets
# model.text_encoder.prompts from it and fills in each loader's dataset.
_base_ = [
    './default_runtime.py',
    './schedules/adamw_210e.py',
    './models/clamp_vit-b16_256x256.py',
    './pipelines/topdown_heatmap_256x256.py',
    './evaluators/hand_coco_pck_auc_epe.py',
]
model = dict(codec=_base_.codec)  # targets (pipelines) and decoding (model) agree
