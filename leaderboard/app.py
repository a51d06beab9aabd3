"""Hugging Face Space entry point: the ZBB leaderboard over results in a Hub dataset repo or the bundled folder.

Space settings (Settings -> Variables and secrets):
  ZBB_RESULTS_REPO  Hub dataset repo holding results under results/ (e.g. org/zbb-results); uploads are pushed
                    there so they survive restarts (needs HF_TOKEN with write access).
  ZBB_DATASET       ZBB dataset (Hub id) used for user audio and for scoring uploads (optional).
  ZBB_RESULTS_DIR   local results folder (default: ./submissions, the reference results shipped with the Space).
"""

import os

from zbb.dataset import open_dataset
from zbb.leaderboard.app import launch, open_store

store, hub = open_store(os.environ.get("ZBB_RESULTS_DIR", "submissions"))
dataset = open_dataset(os.environ["ZBB_DATASET"]) if os.environ.get("ZBB_DATASET") else None
launch(store, dataset=dataset, hub=hub, host="0.0.0.0", port=int(os.environ.get("PORT", 7860)), block=True)
