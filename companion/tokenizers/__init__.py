"""Tokenizers: text to token ids and back.

:mod:`~companion.tokenizers.char` (one id per character, chapters 5 and 6) and
:mod:`~companion.tokenizers.bpe` (byte-pair encoding, chapter 7) share what
:mod:`~companion.tokenizers.base` describes: ``encode``, ``decode``, ``vocab_size``,
``save`` and ``load``. Byte-pair encoding cuts its text with a split pattern first
(:mod:`~companion.tokenizers.split`) and learns its merges with the algorithm of
:mod:`~companion.tokenizers.bpe_training`.
"""
