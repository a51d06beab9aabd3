"""zbb: the Zero-Buffer Benchmark toolkit (build the dataset, score submissions, run the leaderboard).

Importing zbb is cheap and side-effect free: no model, no network, no torch.
"""

#: The one place the version is written: pyproject.toml reads it from here (setuptools' `attr:`), so that
#: `import zbb` need not import importlib.metadata (0.02 s, most of the import) to learn it.
__version__ = "0.1.0"

__all__ = ["__version__"]
