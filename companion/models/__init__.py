"""Models: networks made of the layers, and how they write text.

:mod:`~companion.models.network` is the leaf/flower network of chapters 1 and 2;
:mod:`~companion.models.generate` the sampling loop of chapter 5;
:mod:`~companion.models.gpt` the GPT of chapter 15; :mod:`~companion.models.transformer`
the encoder-decoder of chapter 16.
"""
