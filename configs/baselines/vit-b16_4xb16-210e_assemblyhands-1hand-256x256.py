# Text-free baseline for CLAMP on AssemblyHands one hand: the same CLIP ViT-B/16 backbone,
# deconv heatmap head, codec, data, schedule and optimizer as the CLAMP config it inherits,
# with no prompts, score maps or contrastive loss: the model to pick instead of CLAMP in this
# framework, and the reference of the speed comparison (tools/analysis/benchmark.py).
# Pretrained: the CLIP image tower only (a full CLIP file works; its text tower is skipped).
# tests/test_benchmark.py checks that everything but the model equals the CLAMP config.
import importlib

_base_ = ['../assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py']
_text_free = importlib.import_module('clamp_hand.models.text_free')
model = dict(_delete_=True, **_text_free.text_free_model(_base_.model))  # CLAMP's image side
