"""State-inertia probe: read a full-duplex model's hidden states around an interruption, and fit a perception vector.

`zbb probe` streams rows (ZBB rows, two-channel dialogues, or zbb's own synthetic dialogues) through a model with
capture hooks on a range of layers, reads each captured state through a lens, and writes per-step affinities:
S_gen (does the state predict the model's own next text token?) and S_perc (does it predict the user's next audio
token?), aligned to the interruption onset, with a plot and the inertia length in frames. `zbb steer fit` turns a
probe of dialogues into a `zbb.steering.PerceptionVector`.

Modules: `capture` (forward hooks), `lens` (logit lens, user-stream embedding lens, depformer user head),
`dialogues` (seeded synthetic two-voice dialogues), `stream` (the teacher-forced / free-running step loop),
`curves` (onset alignment, inertia, parquet, plot), `pipeline` (items -> probe folder), `fit` (probe ->
perception vector). torch is imported only by `capture`, `lens` and `stream`, on use; `import zbb.probe` is light.
"""
