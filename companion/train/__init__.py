"""Training: optimisers, the loop, checkpoints and the command ``python -m companion.train``.

:mod:`~companion.train.optim` (SGD, Adam, AdamW, clipping and the schedule);
:mod:`~companion.train.runs` (what a GPT or a Transformer trains on);
:mod:`~companion.train.loop` (the loop); :mod:`~companion.train.checkpoint` (saving and
loading); :mod:`~companion.train.cli` (the command line).
"""
