"""InterHand2.6M, both hands per instance (42 keypoints): right hand 21 then left 21, each
thumb tip -> base, index, middle, ring, little, wrist last. This is AssemblyHands' two-hand
order, so the names, flip pairs, sigmas and prompts are shared; only the name differs."""
_base_ = ['./assemblyhands_twohands.py']
dataset_info = dict(dataset_name='interhand2d_twohands')
