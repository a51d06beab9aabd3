# Only here because pyproject alone cannot combine package discovery with the builders/ -> zbb.builders
# mapping (see [tool.setuptools] in pyproject.toml); all metadata lives in pyproject.toml.
from setuptools import find_packages, setup

setup(packages=find_packages(include=["zbb", "zbb.*"]) + ["zbb.builders"])
