# The model side every CLAMP ViT-B/16 experiment config shares: runtime, the seed's 210-epoch
# AdamW schedule and the model (CLIP ViT-B/16 at 256x256 input). The data side (layout and
# prompts, pipelines, loaders, evaluators and the benchmark's files) is one base under
# configs/_base_/benchmarks/; the experiment config inherits both and joins them: the model
# decodes with the data's codec and has one prompt per keypoint of the data's layout.
_base_ = [
    './default_runtime.py',
    './schedules/adamw_210e.py',
    './models/clamp_vit-b16_256x256.py',
]
