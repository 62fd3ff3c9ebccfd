# Compatibility alias: the Hand-CLAMP seed's config path, so that its README's commands run
# unchanged, e.g.
#   bash tools/dist_train.sh configs/animal/2d_kpt_sview_rgb_img/topdown_heatmap/ap10k/CLAMP_ViTB_ap10k_256x256_onehand.py 4 "0,1,2,3"
# The real config is configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py
# (AssemblyHands, one hand per instance, 21 keypoints). This file only changes what the seed
# did differently, so that its data tree and its trained checkpoints (epoch_*.pth, converted on
# load by tools/test.py) work as they are:
#   - data under data/hands/ (annotations/assemblyhands_{split}_ego_data_v1-1_onehand.json,
#     images under data/hands/data/);
#   - the seed's keypoint names as prompts, 2 learned context tokens and 11 name tokens (its
#     text encoder has 13 positions): the shapes of its checkpoints;
#   - ImageNet mean/std (the seed normalised with them, not with CLIP's);
#   - the seed's heatmap coding (MSRA, sigma 2, quarter-offset decoding instead of DARK);
#   - its COCO AP with AP-10K animal sigmas (coco-ap10k-sigmas/AP), for comparison only,
#     beside the hand-sigma coco/AP that stays the project's figure.
# The two-hand alias (CLAMP_ViTB_ap10k_256x256_twohands.py) inherits this file.
_base_ = ['../../../../assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py']

seed_keypoint_names = [
    'thumb tip', 'thumb proximal joint', 'thumb intermediate joint', 'thumb base joint',
    'index tip', 'index proximal joint', 'index intermediate joint', 'index base joint',
    'middle tip', 'middle proximal joint', 'middle intermediate joint', 'middle base joint',
    'ring tip', 'ring proximal joint', 'ring intermediate joint', 'ring base joint',
    'little tip', 'little proximal joint', 'little intermediate joint', 'little base joint',
    'wrist']
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2,
             unbiased=False)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    text_encoder=dict(prompts=seed_keypoint_names, num_contexts=2, name_length=11),
    codec=codec)

data_root = 'data/hands/'
data_prefix = dict(img='data/')
train_pipeline = [dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step
                  for step in _base_.train_pipeline]
train_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix))
test_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix))
val_evaluator = [
    *_base_.val_evaluator[:1],                # hand sigmas: the project's AP
    dict(type='AP10KSigmaCocoMetric'),         # the seed's AP (AP-10K sigmas), comparison only
    *_base_.val_evaluator[1:],                # PCK, AUC, EPE
]
test_evaluator = val_evaluator
