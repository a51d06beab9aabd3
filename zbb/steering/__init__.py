"""Activation steering with a perception vector: the vector record and maths (`zbb.steering.vector`), the
graph-safe forward hook (`zbb.steering.hook`, imports torch) and the interruption-onset detector
(`zbb.steering.onset`). Importing this package does not import torch.
"""

from zbb.steering.vector import PerceptionVector, compute_perception_vector, split_steps, vector_sha256

__all__ = ["PerceptionVector", "compute_perception_vector", "split_steps", "vector_sha256"]
