# Compatibility alias: the seed's default config name = its one-hand AssemblyHands setting.
# See CLAMP_ViTB_ap10k_256x256_onehand.py; the real config is
# configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py.
_base_ = ['./CLAMP_ViTB_ap10k_256x256_onehand.py']
