"""The original Transformer: an encoder reads the source, a decoder writes the target.

Vaswani et al. (2017) built it for translation. The *encoder* reads the whole source at
once: token and position embeddings, then blocks of self-attention without a mask (every
source token may look at every other) and an MLP. Its output, one vector per source
position, is the *memory*. The *decoder* is a GPT that also looks at the memory: each of
its blocks has a masked self-attention over the target written so far, a cross-attention
whose queries come from the target and whose keys and values come from the memory, and an
MLP. A linear head turns each decoder position into scores for the next target token.

The names and the conventions are the GPT's: ``logits, loss = model(src, tgt, targets)``,
then ``model.backward()``; targets equal to -1 (padding) do not count. The blocks put the
layer normalization *before* each sub-layer ("pre-norm", as GPT-2 does), not after it as
the 2017 paper did: it trains more easily. Positions are learned, as in GPT;
:func:`companion.layers.positional.sinusoidal_encoding` gives the paper's fixed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import (
    as_array,
    as_generator,
    as_ids,
    describe,
    flag,
    float_dtype,
    positive_int,
    whole_number,
)
from companion.layers.cross_attention import CrossAttention
from companion.layers.embedding import Embedding
from companion.layers.layernorm import LayerNorm
from companion.layers.linear import Linear
from companion.layers.losses import CrossEntropyLoss
from companion.layers.mlp import MLP
from companion.layers.module import Module
from companion.layers.multihead import MultiHeadAttention, check_heads
from companion.models.block import Block
from companion.models.gpt import IGNORE_INDEX


@dataclass(frozen=True)
class TransformerConfig:
    """The sizes of an encoder-decoder Transformer, checked when it is made.

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size : int
        How many different source and target token ids there are.
    src_block_size, tgt_block_size : int
        The longest source and target sequences the model reads.
    n_layer : int
        Blocks in the encoder, and again in the decoder.
    n_head : int
        Attention heads in every attention layer; must divide ``n_embd``.
    n_embd : int
        Numbers per token vector, ``C``.
    bias : bool
        Biases in the linear layers and shifts in the layer normalizations.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    src_block_size: int
    tgt_block_size: int
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("src_vocab_size", "tgt_vocab_size", "src_block_size", "tgt_block_size"):
            positive_int(getattr(self, name), name)
        positive_int(self.n_layer, "n_layer")
        check_heads(self.n_embd, self.n_head)
        flag(self.bias, "bias")

    def n_parameters(self) -> int:
        """How many numbers a Transformer of these sizes learns, from the sizes alone.

        An encoder block is a GPT block, ``12 C^2 + 2 C`` (``+ 11 C`` with ``bias``); a
        decoder block adds the cross-attention's ``4 C^2`` and a third layer
        normalization: ``16 C^2 + 3 C`` (``+ 16 C``). Then the four tables, the two final
        layer normalizations and the head ``C x tgt_vocab_size``.

        Notes
        -----
        Taught in chapter 16, The Transformer architecture.
        """
        C, b = self.n_embd, int(self.bias)
        encoder = 12 * C * C + 2 * C + b * 11 * C
        decoder = 16 * C * C + 3 * C + b * 16 * C
        tables = (self.src_vocab_size + self.src_block_size + self.tgt_block_size) * C
        head = C * self.tgt_vocab_size  # also the target token table's size
        return tables + 2 * head + self.n_layer * (encoder + decoder) + 2 * (C + b * C)


class DecoderBlock(Module):
    """Masked self-attention, cross-attention to the memory, MLP; each ``x + f(ln(x))``.

    ``forward(x, memory)`` takes ``x`` ``[B, T, C]`` and the encoder's output ``memory``
    ``[B, S, C]``; ``backward(dout)`` returns ``(dx, dmemory)``: the memory gets a gradient
    from this block's cross-attention.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(self, config: TransformerConfig, *, rng: np.random.Generator, dtype: object):
        super().__init__()
        C, nh, bias = config.n_embd, config.n_head, config.bias
        self.ln_1 = LayerNorm(C, bias, dtype=dtype)
        self.attn = MultiHeadAttention(C, nh, causal=True, bias=bias, rng=rng, dtype=dtype)
        self.ln_2 = LayerNorm(C, bias, dtype=dtype)
        self.cross_attn = CrossAttention(C, nh, bias, rng=rng, dtype=dtype)
        self.ln_3 = LayerNorm(C, bias, dtype=dtype)
        self.mlp = MLP(C, bias, rng=rng, dtype=dtype)

    def __call__(self, x: object, memory: object) -> np.ndarray:
        """Check ``x`` ``[B, T, C]`` and ``memory`` ``[B, S, C]`` at the door, then run."""
        C, dtype = self.ln_1.n_embd, self.ln_1.dtype
        x = as_array(x, "x", shape=("B", "T", C), dtype=dtype)
        memory = as_array(
            memory, "memory", shape=(x.shape[0], "S", C), dtype=dtype, meaning="batch of x"
        )
        return self.forward(x, memory)

    def forward(self, x: np.ndarray, memory: np.ndarray) -> np.ndarray:
        x = x + self.attn.forward(self.ln_1.forward(x))  # [B, T, C]
        x = x + self.cross_attn.forward(self.ln_2.forward(x), memory)  # [B, T, C]
        x = x + self.mlp.forward(self.ln_3.forward(x))  # [B, T, C]
        return x

    def forward_cached(
        self, x: np.ndarray, memory: np.ndarray, caches: dict[str, dict[str, np.ndarray]]
    ) -> np.ndarray:
        """:meth:`forward` for the newest target positions, both attentions reusing ``caches``.

        Notes
        -----
        Taught in chapter 16, The Transformer architecture.
        """
        x = x + self.attn.forward_cached(self.ln_1.forward(x), caches["self"])  # [B, t, C]
        x = x + self.cross_attn.forward_cached(self.ln_2.forward(x), memory, caches["cross"])
        x = x + self.mlp.forward(self.ln_3.forward(x))  # [B, t, C]
        return x

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx = dout + self.ln_3.backward(self.mlp.backward(dout))
        dquery, dmemory = self.cross_attn.backward(dx)  # [B, T, C], [B, S, C]
        dx = dx + self.ln_2.backward(dquery)
        dx = dx + self.ln_1.backward(self.attn.backward(dx))
        return dx, dmemory


class Transformer(Module):
    """The encoder-decoder Transformer: source ids and target ids in, target logits out.

    ``memory = ln_enc(encoder(src_wte(src) + src_wpe))``, then
    ``logits = lm_head(ln_dec(decoder(tgt_wte(tgt) + tgt_wpe, memory)))``, where every
    decoder block attends to the same ``memory``.

    Parameters
    ----------
    config : TransformerConfig
        The sizes.
    rng : numpy.random.Generator or int
        For every initial weight.
    dtype : numpy.float32 or numpy.float64
        Of every parameter.

    Examples
    --------
    >>> config = TransformerConfig(7, 9, src_block_size=5, tgt_block_size=4, n_layer=1,
    ...                            n_head=2, n_embd=8)
    >>> model = Transformer(config, rng=0)
    >>> logits, loss = model(np.zeros((2, 5), dtype=int), np.zeros((2, 3), dtype=int))
    >>> logits.shape
    (2, 3, 9)

    Notes
    -----
    Train with ``model(src, tgt_in, tgt_out)`` then :meth:`backward`: the loss compares the
    logits at target position ``t`` with ``tgt_out[:, t]``, which is ``tgt_in`` shifted one
    to the left (``tgt_in`` starts with a begin-of-sequence id, ``tgt_out`` ends with an
    end-of-sequence id and is padded with -1). The memory's gradient is the sum of what
    every decoder block's cross-attention sends back; it then flows through the encoder.

    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self,
        config: TransformerConfig,
        *,
        rng: np.random.Generator | int,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig; got {describe(config)}")
        self.config, self.dtype, rng = config, float_dtype(dtype), as_generator(rng)
        c, C, dt = config, config.n_embd, self.dtype
        self.src_wte = Embedding(c.src_vocab_size, C, rng=rng, dtype=dt)
        self.src_wpe = Embedding(c.src_block_size, C, rng=rng, dtype=dt)  # source positions
        self.encoder = [
            Block(C, c.n_head, causal=False, bias=c.bias, rng=rng, dtype=dt)  # sees every position
            for _ in range(c.n_layer)
        ]
        self.ln_enc = LayerNorm(C, c.bias, dtype=dt)
        self.tgt_wte = Embedding(c.tgt_vocab_size, C, rng=rng, dtype=dt)
        self.tgt_wpe = Embedding(c.tgt_block_size, C, rng=rng, dtype=dt)  # target positions
        self.decoder = [DecoderBlock(c, rng=rng, dtype=dt) for _ in range(c.n_layer)]
        self.ln_dec = LayerNorm(C, c.bias, dtype=dt)
        self.lm_head = Linear(C, c.tgt_vocab_size, bias=False, rng=rng, dtype=dt)
        self.loss_fn = CrossEntropyLoss(ignore_index=IGNORE_INDEX)
        self.has_loss = False  # whether the last forward computed a loss to start backward
        self.rng = rng  # saved with a resumable checkpoint, like the GPT's

    # -- at the door ---------------------------------------------------------------------
    def _ids(self, ids: object, name: str, side: str, batch: int | str = "B") -> np.ndarray:
        """Ids of the source or the target side: ``[batch, positions]``, within the block."""
        vocab, block = (
            getattr(self.config, f"{side}_vocab_size"),
            getattr(self.config, f"{side}_block_size"),
        )
        ids = as_ids(ids, name, vocab, shape=(batch, "positions"), meaning="batch, positions")
        if ids.shape[1] > block:
            raise ValueError(
                f"{name} must have at most {side}_block_size = {block} positions; "
                f"got {ids.shape[1]}"
            )
        return ids

    def __call__(
        self, src: object, tgt: object, targets: object = None
    ) -> tuple[np.ndarray, float | None]:
        """Check the ids at the door, then :meth:`forward`."""
        src = self._ids(src, "src", "src")
        tgt = self._ids(tgt, "tgt", "tgt", batch=src.shape[0])
        if targets is not None:
            targets = as_ids(
                targets,
                "targets",
                self.config.tgt_vocab_size,
                shape=tgt.shape,
                meaning="the shape of tgt",
                ignore_index=IGNORE_INDEX,
            )
        return self.forward(src, tgt, targets)

    # -- computing -------------------------------------------------------------------------
    def encode(self, src: np.ndarray) -> np.ndarray:
        """Source ids ``[B, S]`` -> the memory ``[B, S, C]``."""
        positions = np.arange(src.shape[1])  # [S]
        x = self.src_wte.forward(src) + self.src_wpe.forward(positions)  # [B, S, C] + [S, C]
        for block in self.encoder:
            x = block.forward(x)  # [B, S, C]
        return self.ln_enc.forward(x)  # [B, S, C]

    def decode(self, tgt: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """Target ids ``[B, T]`` reading the memory ``[B, S, C]`` -> logits ``[B, T, V]``."""
        positions = np.arange(tgt.shape[1])  # [T]
        x = self.tgt_wte.forward(tgt) + self.tgt_wpe.forward(positions)  # [B, T, C] + [T, C]
        for block in self.decoder:
            x = block.forward(x, memory)  # [B, T, C]
        return self.lm_head.forward(self.ln_dec.forward(x))  # [B, T, C] -> [B, T, V]

    def forward(
        self, src: np.ndarray, tgt: np.ndarray, targets: np.ndarray | None = None
    ) -> tuple[np.ndarray, float | None]:
        logits = self.decode(tgt, self.encode(src))  # [B, T, V]
        self.has_loss = targets is not None
        loss = self.loss_fn.forward(logits, targets) if targets is not None else None
        return logits, loss

    def backward(self) -> None:
        """Add d loss / d parameter to every gradient, from the loss of the last forward."""
        if not self.has_loss:
            raise RuntimeError("backward() needs a loss: call model(src, tgt, targets) first")
        dx = self.ln_dec.backward(self.lm_head.backward(self.loss_fn.backward()))  # [B, T, C]
        dmemories = []  # every decoder block read the same memory
        for decoder_block in reversed(self.decoder):
            dx, dmemory = decoder_block.backward(dx)  # [B, T, C], [B, S, C]
            dmemories.append(dmemory)
        self.tgt_wpe.backward(dx.sum(axis=0))  # [B, T, C] -> [T, C]
        self.tgt_wte.backward(dx)
        dx = self.ln_enc.backward(np.sum(dmemories, axis=0))  # their sum, [B, S, C]
        for encoder_block in reversed(self.encoder):
            dx = encoder_block.backward(dx)
        self.src_wpe.backward(dx.sum(axis=0))  # [B, S, C] -> [S, C]
        self.src_wte.backward(dx)

    # -- writing -------------------------------------------------------------------------
    def decode_cached(
        self,
        tgt: np.ndarray,
        memory: np.ndarray,
        start: int,
        caches: list[dict[str, dict[str, np.ndarray]]],
    ) -> np.ndarray:
        """The logits of new target ids ``tgt`` ``[B, t]`` at positions ``start ..``.

        Like :meth:`decode` on the whole target, at its last ``t`` positions, with the keys
        and values of the earlier positions, and of the memory, read from ``caches`` (one
        per decoder block, each ``{"self": {}, "cross": {}}`` at ``start`` 0).

        Notes
        -----
        Taught in chapter 16, The Transformer architecture.
        """
        positions = np.arange(start, start + tgt.shape[1])  # [t]
        x = self.tgt_wte.forward(tgt) + self.tgt_wpe.forward(positions)  # [B, t, C]
        for block, cache in zip(self.decoder, caches, strict=True):
            x = block.forward_cached(x, memory, cache)  # [B, t, C]
        return self.lm_head.forward(self.ln_dec.forward(x))  # [B, t, V]

    def greedy_decode(
        self, src: object, bos_id: int, eos_id: int, max_len: int, use_cache: bool = True
    ) -> list[list[int]]:
        """Write each target one token at a time, always taking the most likely next id.

        Parameters
        ----------
        src : array_like of int, shape [B, S]
            The sources, all of the same length (pad them).
        bos_id, eos_id : int
            The target ids that begin and end a sequence.
        max_len : int
            At most this many ids are written per sequence (``<= tgt_block_size``).
        use_cache : bool
            Compute each step's newest id only, reusing the keys and values of the ids
            before and of the memory (:meth:`decode_cached`); the ids are the same.

        Returns
        -------
        list of list of int
            For each source, the ids written before the first ``eos_id`` (without
            ``bos_id`` and ``eos_id``); ``max_len`` ids if no ``eos_id`` came.

        Notes
        -----
        Taught in chapter 16, The Transformer architecture.
        """
        c = self.config
        src = self._ids(src, "src", "src")
        bos_id = whole_number(bos_id, "bos_id")
        eos_id = whole_number(eos_id, "eos_id")
        for value, name in ((bos_id, "bos_id"), (eos_id, "eos_id")):
            if value >= c.tgt_vocab_size:
                raise ValueError(
                    f"{name} must be a target id below {c.tgt_vocab_size}; got {value}"
                )
        max_len = positive_int(max_len, "max_len")
        if max_len > c.tgt_block_size:
            raise ValueError(
                f"max_len must be at most tgt_block_size = {c.tgt_block_size}; got {max_len}"
            )
        memory = self.encode(src)  # [B, S] -> [B, S, C], once for every step
        tgt = np.full((len(src), 1), bos_id, dtype=np.int64)  # [B, 1]
        done = np.zeros(len(src), dtype=bool)  # [B]
        caches: list[dict[str, dict[str, np.ndarray]]] = [
            {"self": {}, "cross": {}} for _ in self.decoder
        ]
        for t in range(max_len):
            if flag(use_cache, "use_cache"):  # only the newest id goes through the decoder
                logits = self.decode_cached(tgt[:, -1:], memory, t, caches)  # [B, 1, V]
            else:
                logits = self.decode(tgt, memory)  # [B, t + 1, V]: the whole target again
            next_id = logits[:, -1].argmax(axis=-1)  # [B]
            next_id[done] = eos_id  # finished sequences only pad
            tgt = np.concatenate([tgt, next_id[:, None]], axis=1)  # [B, t] -> [B, t + 1]
            done |= next_id == eos_id
            if done.all():
                break
        rows = tgt[:, 1:].tolist()
        return [row[: row.index(eos_id)] if eos_id in row else row for row in rows]

    def __repr__(self) -> str:
        return f"Transformer({self.config}, {self.n_parameters} parameters)"
