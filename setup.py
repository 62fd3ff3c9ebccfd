from setuptools import find_packages, setup

setup(
    name='clamp_hand',
    version='0.1.0',
    description='Text-prompted 2D hand keypoint estimation (CLAMP for hands)',
    packages=find_packages(include=['clamp_hand', 'clamp_hand.*']),
    python_requires='>=3.9',
)
