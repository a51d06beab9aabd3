"""zbb: the Zero-Buffer Benchmark toolkit (build the dataset, score submissions, run the leaderboard).

Importing zbb is cheap and side-effect free: no model, no network, no torch.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("zbb")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
