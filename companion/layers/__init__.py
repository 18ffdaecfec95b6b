"""Layers: the building blocks of every model, each a formula with its backward pass.

One module per idea, in the order of the book: :mod:`~companion.layers.module` (the base,
chapter 4), :mod:`~companion.layers.activations` and :mod:`~companion.layers.softmax`
(chapter 2), :mod:`~companion.layers.losses` (chapter 3), :mod:`~companion.layers.linear`
and :mod:`~companion.layers.gradcheck` (chapter 4), :mod:`~companion.layers.embedding`
(chapter 6), :mod:`~companion.layers.attention` (chapter 8),
:mod:`~companion.layers.residual` (chapter 10), :mod:`~companion.layers.layernorm`
(chapter 11), :mod:`~companion.layers.dropout` (chapter 12),
:mod:`~companion.layers.multihead` (chapter 13), :mod:`~companion.layers.positional`
(chapter 14) and :mod:`~companion.layers.cross_attention` (chapter 16). The speed tricks
some of them call live in :mod:`~companion.layers.fast`.
"""
