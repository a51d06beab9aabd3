"""Running full-duplex models on ZBB rows: backends (`zbb.runner.backends`, the shared API) and the streaming
runner behind `zbb run`. Importing this package does not import torch or moshi.
"""
