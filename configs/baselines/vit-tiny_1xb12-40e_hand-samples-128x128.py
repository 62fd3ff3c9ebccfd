# Tiny text-free baseline on the 12 real hands of ../shared/data/hand_samples: the backbone,
# head, data and schedule of the tiny CLAMP config it inherits, without prompts, score maps or
# contrastive loss (CPU tests and benchmarks; random init).
import importlib

_base_ = ['../hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py']
_text_free = importlib.import_module('clamp_hand.models.text_free')
model = dict(_delete_=True, **_text_free.text_free_model(_base_.model))  # CLAMP's image side
