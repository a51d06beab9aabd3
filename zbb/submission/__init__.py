"""Submissions: a model's outputs on the dataset (transcripts, output audio, or FDB run folders), checked and loaded.

`load_submission(path, dataset)` returns a `Submission` or raises `SubmissionError` listing every problem;
`validate_submission(path, dataset)` returns the problems without transcribing. Format: docs/SUBMISSION.md.
"""

from zbb.submission.files import Limits
from zbb.submission.loader import Check, Submission, check_submission, load_submission, validate_submission

__all__ = ["Check", "Limits", "Submission", "check_submission", "load_submission", "validate_submission"]
