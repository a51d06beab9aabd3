"""Lenses: read a captured hidden state as a prediction of the next token of one stream (torch).

- `text`: the logit lens of the model's own text stream, `text_linear(out_norm(h))`. At the last layer this is
  exactly the text logits the model samples from.
- `own-depformer` (an alternative S_gen): the depformer's logits for the model's own first audio codebook, run
  from `out_norm(h)` with the step's text token as its first input; the model's real head for its own audio.
- `user-embedding`: Kyutai's Moshi has no head for the user's audio. This lens scores each token of the user's
  first codebook by the dot product of `out_norm(h)` with that token's row of the user-stream input embedding
  (`lm.emb[n_q // 2]`). It is a proxy, named as such: a tied-embedding reading, not a trained head.
- `user-depformer`: PersonaPlex's depformer also predicts the user stream (`dep_q > n_q // 2`): its logits for the
  user's first codebook, run from `out_norm(h)` with the step's own tokens teacher-forced as the depformer's
  earlier inputs. A real head; at the last layer it is what the model itself computes.

Streams follow moshi's layout: codes [text, the model's n_q/2 codebooks, the user's n_q/2 codebooks].
"""

from __future__ import annotations

from typing import Any

from zbb.errors import ProbeError

TEXT_LENS = "text"
OWN_DEPFORMER_LENS = "own-depformer"
GENERATION_LENSES = (TEXT_LENS, OWN_DEPFORMER_LENS)
USER_EMBEDDING_LENS = "user-embedding"
USER_DEPFORMER_LENS = "user-depformer"
PERCEPTION_LENSES = (USER_EMBEDDING_LENS, USER_DEPFORMER_LENS)


def own_codebooks(lm: Any) -> int:
    """Audio codebooks per side (the model's own stream and the user's have the same count in moshi)."""
    return int(lm.n_q) // 2


def has_user_head(lm: Any) -> bool:
    """True when the depformer predicts the user's stream too (PersonaPlex), False for Kyutai's Moshi."""
    return int(lm.dep_q) > own_codebooks(lm)


def default_perception_lens(lm: Any) -> str:
    return USER_DEPFORMER_LENS if has_user_head(lm) else USER_EMBEDDING_LENS


def normed(lm: Any, hidden: Any) -> Any:
    """`out_norm(h)` in the model's dtype (what the heads read)."""
    h = hidden.to(lm.dtype)
    if lm.out_norm is None:
        return h
    flat = h.reshape(-1, 1, h.shape[-1])  # moshi's norms take [B, T, D] only
    return lm.out_norm(flat).reshape(h.shape)


def text_logits(lm: Any, hidden: Any) -> Any:
    """Logit lens of the text stream: [..., D] -> [..., text_card] (float32)."""
    return lm.text_linear(normed(lm, hidden)).float()


def user_embedding_table(lm: Any, codebook: int = 0) -> Any:
    """The user stream's input embedding of codebook `codebook`, one row per audio token: [card, D]."""
    import torch

    emb = lm.emb[own_codebooks(lm) + codebook]
    tokens = torch.arange(int(lm.card), device=lm.device)
    return emb(tokens)  # through the module, so low-rank or normed embeddings are read as the model reads them


def user_embedding_logits(lm: Any, hidden: Any, table: Any | None = None) -> Any:
    """Embedding lens of the user's first codebook: `out_norm(h) @ emb_user[0].T`, [..., card] (float32)."""
    table = user_embedding_table(lm) if table is None else table
    return (normed(lm, hidden) @ table.T).float()


def depformer_logits(lm: Any, hidden: Any, prefix: Any, codebook: int) -> Any:
    """Depformer logits of audio codebook `codebook` (0-based over the depformer's outputs) read from `hidden`.

    `hidden` is [N, D]; `prefix` [N, codebook + 1] holds, per row, the step's text token then the audio tokens of
    codebooks 0..codebook-1 (the tokens the depformer is fed before it predicts `codebook`, as in moshi's
    `forward_depformer_training`). Returns [N, card] float32.
    """
    import torch

    if lm.depformer is None or codebook >= int(lm.dep_q):
        raise ProbeError(f"this model's depformer predicts {int(lm.dep_q)} codebooks; no head for codebook {codebook}")
    if prefix.shape != (hidden.shape[0], codebook + 1):
        raise ProbeError(f"depformer prefix must be [{hidden.shape[0]}, {codebook + 1}]; got {tuple(prefix.shape)}")
    out = normed(lm, hidden)
    inputs = []
    for k in range(codebook + 1):
        index = k
        if lm.depformer_multi_linear and lm.depformer_weights_per_step_schedule is not None:
            index = lm.depformer_weights_per_step_schedule[k]
        proj = lm.depformer_in[index if lm.depformer_multi_linear else 0](out)
        token = lm.depformer_text_emb(prefix[:, 0]) if k == 0 else lm.depformer_emb[k - 1](prefix[:, k])
        inputs.append(proj + token)
    dep_out = lm.depformer(torch.stack(inputs, dim=1))  # [N, codebook + 1, dep_dim], causal over codebooks
    return lm.linears[codebook](lm.depformer_norms[codebook](dep_out[:, codebook])).float()


def token_scores(logits: Any, targets: Any, score: str) -> Any:
    """The target token's probability (`score="prob"`) or log-probability (`"logprob"`) under `logits` [..., V]."""
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if score == "prob":
        return logp.exp()
    if score == "logprob":
        return logp
    raise ProbeError(f"unknown affinity score {score!r}; expected 'prob' or 'logprob'")
