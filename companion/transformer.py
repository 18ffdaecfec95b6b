"""The original Transformer: an encoder reads the source, a decoder writes the target.

Vaswani et al. (2017) built it for translation. The *encoder* reads the whole source
sentence at once: token and position embeddings, then blocks of self-attention (no mask:
every source token may look at every other) and an MLP. Its output, one vector per source
position, is the *memory*. The *decoder* is a GPT that also looks at the memory: each of
its blocks has a masked self-attention over the target written so far, a cross-attention
whose queries come from the target and whose keys and values come from the memory, and an
MLP. A linear head turns each decoder position into scores for the next target token.

The blocks here put the layer normalization *before* each sub-layer ("pre-norm", as GPT-2
does), not after it as the 2017 paper did: it trains more easily, and is what the GPT
chapter built. Positions are learned, as in GPT; :func:`companion.positional.
sinusoidal_encoding` gives the paper's fixed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion._validate import (
    as_float_array,
    as_generator,
    as_ids,
    describe,
    float_dtype,
    inside_model,
    positive_int,
)
from companion.activation import GELU
from companion.cross_attention import CrossAttention
from companion.embedding import Embedding
from companion.layernorm import LayerNorm
from companion.linear import Linear
from companion.loss import CrossEntropyLoss
from companion.module import Module, Sequential
from companion.multihead import MultiHeadAttention, check_heads
from companion.positional import PositionalEmbedding


@dataclass(frozen=True)
class TransformerConfig:
    """The sizes of an encoder-decoder Transformer.

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

    Raises
    ------
    TypeError
        If a size is not an int.
    ValueError
        If a size is below 1, or ``n_embd`` is not divisible by ``n_head``.

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

    def __post_init__(self) -> None:
        for name in (
            "src_vocab_size",
            "tgt_vocab_size",
            "src_block_size",
            "tgt_block_size",
            "n_layer",
            "n_head",
            "n_embd",
        ):
            positive_int(getattr(self, name), name)
        check_heads(self.n_embd, self.n_head)


def _mlp(C: int, rng: np.random.Generator, dtype: type) -> Sequential:
    """``Linear(C, 4C) -> GELU -> Linear(4C, C)``, the position-wise feed-forward layer."""
    return Sequential(
        Linear(C, 4 * C, rng=rng, dtype=dtype),  # [B, T, C] -> [B, T, 4C]
        GELU(),
        Linear(4 * C, C, rng=rng, dtype=dtype),  # [B, T, 4C] -> [B, T, C]
    )


def _check_sequence(x: object, name: str, C: int, dtype: type) -> np.ndarray:
    x = as_float_array(x, name, shapes=[("batch", "T", C)], meaning=f"{C} = n_embd channels")
    return x.astype(dtype, copy=False)


class EncoderBlock(Module):
    """``x + attention(LN(x))``, then ``x + MLP(LN(x))``; the attention has no mask.

    Parameters
    ----------
    n_embd : int
        Channels of the input and the output, ``C``.
    n_head : int
        Attention heads; must divide ``n_embd``.
    rng : numpy.random.Generator or int
        For the initial weights.
    dtype : numpy.float32 or numpy.float64
        Of the parameters; inputs are converted to it.

    Notes
    -----
    ``forward(x)`` takes and returns ``[B, S, C]``. Every source position may attend to
    every other, before or after it: the whole source is known from the start.

    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self, n_embd: int, n_head: int, *, rng: np.random.Generator | int, dtype: type = np.float32
    ) -> None:
        super().__init__()
        C, n_head = check_heads(n_embd, n_head)
        self.n_embd, self.dtype = C, float_dtype(dtype)
        rng = as_generator(rng)
        self.ln_1 = LayerNorm(C, dtype=self.dtype)
        self.attention = MultiHeadAttention(C, n_head, causal=False, rng=rng, dtype=self.dtype)
        self.ln_2 = LayerNorm(C, dtype=self.dtype)
        self.mlp = _mlp(C, rng, self.dtype)

    def forward(self, x: object) -> np.ndarray:
        """``x`` ``[B, S, C]`` -> the block's output, ``[B, S, C]``."""
        x = _check_sequence(x, "x", self.n_embd, self.dtype)
        x = x + self.attention.forward(self.ln_1.forward(x))  # [B, S, C]
        return x + self.mlp.forward(self.ln_2.forward(x))  # [B, S, C]

    def backward(self, dout: object) -> np.ndarray:
        """Return d loss / d x; add the gradients of every parameter inside."""
        dout = as_float_array(dout, "dout").astype(self.dtype, copy=False)
        dx = dout + self.ln_2.backward(self.mlp.backward(dout))  # through the MLP's residual
        return dx + self.ln_1.backward(self.attention.backward(dx))  # and attention's


class DecoderBlock(Module):
    """Masked self-attention, cross-attention to the memory, MLP; each ``x + f(LN(x))``.

    ``x = x + self_attention(LN(x))`` (causal); ``x = x + cross_attention(LN(x), memory)``;
    ``x = x + MLP(LN(x))``.

    Parameters
    ----------
    n_embd : int
        Channels of the input, the memory and the output, ``C``.
    n_head : int
        Attention heads; must divide ``n_embd``.
    rng : numpy.random.Generator or int
        For the initial weights.
    dtype : numpy.float32 or numpy.float64
        Of the parameters; inputs are converted to it.

    Notes
    -----
    ``forward(x, memory)`` takes ``x`` ``[B, T, C]`` and the encoder's output ``memory``
    ``[B, S, C]``, and returns ``[B, T, C]``. ``backward(dout)`` returns
    ``(dx, dmemory)``: the memory gets a gradient from this block's cross-attention.

    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self, n_embd: int, n_head: int, *, rng: np.random.Generator | int, dtype: type = np.float32
    ) -> None:
        super().__init__()
        C, n_head = check_heads(n_embd, n_head)
        self.n_embd, self.dtype = C, float_dtype(dtype)
        rng = as_generator(rng)
        self.ln_1 = LayerNorm(C, dtype=self.dtype)
        self.self_attention = MultiHeadAttention(C, n_head, causal=True, rng=rng, dtype=self.dtype)
        self.ln_2 = LayerNorm(C, dtype=self.dtype)
        self.cross_attention = CrossAttention(C, n_head, rng=rng, dtype=self.dtype)
        self.ln_3 = LayerNorm(C, dtype=self.dtype)
        self.mlp = _mlp(C, rng, self.dtype)

    def forward(self, x: object, memory: object) -> np.ndarray:  # type: ignore[override]
        """``x`` ``[B, T, C]`` attending to ``memory`` ``[B, S, C]`` -> ``[B, T, C]``."""
        x = _check_sequence(x, "x", self.n_embd, self.dtype)
        memory = _check_sequence(memory, "memory", self.n_embd, self.dtype)
        if memory.shape[0] != x.shape[0]:
            raise ValueError(
                f"memory must have the batch size of x, {x.shape[0]}; got {memory.shape[0]}"
            )
        x = x + self.self_attention.forward(self.ln_1.forward(x))  # [B, T, C]
        x = x + self.cross_attention.forward(self.ln_2.forward(x), memory)  # [B, T, C]
        return x + self.mlp.forward(self.ln_3.forward(x))  # [B, T, C]

    def backward(self, dout: object) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        """Return ``(dx, dmemory)``; add the gradients of every parameter inside."""
        dout = as_float_array(dout, "dout").astype(self.dtype, copy=False)
        dx = dout + self.ln_3.backward(self.mlp.backward(dout))
        dquery, dmemory = self.cross_attention.backward(dx)
        dx = dx + self.ln_2.backward(dquery)
        dx = dx + self.ln_1.backward(self.self_attention.backward(dx))
        return dx, dmemory

    def __call__(self, x: object, memory: object) -> np.ndarray:  # type: ignore[override]
        return self.forward(x, memory)


class Transformer(Module):
    """The encoder-decoder Transformer: source ids and target ids in, target logits out.

    Encoder: ``memory = LN(encoder_blocks(token_emb(src) + position_emb))``. Decoder:
    ``logits = head(LN(decoder_blocks(token_emb(tgt_in) + position_emb, memory)))``, where
    every decoder block attends to the same ``memory``.

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
    >>> model.forward(np.zeros((2, 5), dtype=int), np.zeros((2, 3), dtype=int)).shape
    (2, 3, 9)

    Notes
    -----
    Train with :meth:`loss` then :meth:`backward`: the loss compares the logits at target
    position ``t`` with ``tgt_out[:, t]``, usually ``tgt_in`` shifted one to the left
    (``tgt_in`` starts with a begin-of-sequence id, ``tgt_out`` ends with an
    end-of-sequence id). The memory's gradient is the sum of what every decoder block's
    cross-attention sends back; it then flows through the encoder. The head has no bias,
    as in GPT-2.

    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self,
        config: TransformerConfig,
        *,
        rng: np.random.Generator | int,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig; got {describe(config)}")
        self.config = config
        self.dtype = float_dtype(dtype)
        rng = as_generator(rng)
        C, nh, dt = config.n_embd, config.n_head, self.dtype
        self.src_token_embedding = Embedding(config.src_vocab_size, C, rng=rng, dtype=dt)
        self.src_position_embedding = PositionalEmbedding(
            config.src_block_size, C, rng=rng, dtype=dt
        )
        self.encoder_blocks = [
            EncoderBlock(C, nh, rng=rng, dtype=dt) for _ in range(config.n_layer)
        ]
        self.ln_encoder = LayerNorm(C, dtype=dt)
        self.tgt_token_embedding = Embedding(config.tgt_vocab_size, C, rng=rng, dtype=dt)
        self.tgt_position_embedding = PositionalEmbedding(
            config.tgt_block_size, C, rng=rng, dtype=dt
        )
        self.decoder_blocks = [
            DecoderBlock(C, nh, rng=rng, dtype=dt) for _ in range(config.n_layer)
        ]
        self.ln_decoder = LayerNorm(C, dtype=dt)
        self.head = Linear(C, config.tgt_vocab_size, bias=False, rng=rng, dtype=dt)
        self._loss: CrossEntropyLoss | None = None

    # -- checking ids ---------------------------------------------------------------------
    def _src_ids(self, src_ids: object) -> np.ndarray:
        c = self.config
        return _check_ids(src_ids, "src_ids", c.src_vocab_size, c.src_block_size, "S")

    def _tgt_ids(self, tgt_ids: object, name: str, batch: int, of: str) -> np.ndarray:
        c = self.config
        ids = _check_ids(tgt_ids, name, c.tgt_vocab_size, c.tgt_block_size, "T")
        if ids.shape[0] != batch:
            raise ValueError(
                f"{name} must have the batch size of {of}, {batch}; got {ids.shape[0]}"
            )
        return ids

    # -- computing ------------------------------------------------------------------------
    def encode(self, src_ids: object) -> np.ndarray:
        """Source ids ``[B, S]`` -> the memory ``[B, S, n_embd]``."""
        src_ids = self._src_ids(src_ids)
        with inside_model():  # every array below is one the model made
            x = self.src_token_embedding.forward(src_ids)  # [B, S] -> [B, S, C]
            x = self.src_position_embedding.forward(x)  # [B, S, C]
            for block in self.encoder_blocks:
                x = block.forward(x)  # [B, S, C]
            return self.ln_encoder.forward(x)  # [B, S, C]

    def decode(self, tgt_in_ids: object, memory: object) -> np.ndarray:
        """Target ids ``[B, T]`` reading ``memory`` ``[B, S, n_embd]`` -> logits ``[B, T, V]``."""
        memory = _check_sequence(memory, "memory", self.config.n_embd, self.dtype)
        tgt_in_ids = self._tgt_ids(tgt_in_ids, "tgt_in_ids", memory.shape[0], "memory")
        with inside_model():  # memory was checked; the rest the model makes
            x = self.tgt_token_embedding.forward(tgt_in_ids)  # [B, T] -> [B, T, C]
            x = self.tgt_position_embedding.forward(x)  # [B, T, C]
            for block in self.decoder_blocks:
                x = block.forward(x, memory)  # [B, T, C]
            x = self.ln_decoder.forward(x)  # [B, T, C]
            return self.head.forward(x)  # [B, T, C] -> [B, T, V]

    def forward(self, src_ids: object, tgt_in_ids: object) -> np.ndarray:  # type: ignore[override]
        """Source ids ``[B, S]`` and target ids ``[B, T]`` -> logits ``[B, T, tgt_vocab]``."""
        src_ids = self._src_ids(src_ids)
        self._tgt_ids(tgt_in_ids, "tgt_in_ids", src_ids.shape[0], "src_ids")
        return self.decode(tgt_in_ids, self.encode(src_ids))

    def __call__(self, src_ids: object, tgt_in_ids: object) -> np.ndarray:  # type: ignore[override]
        return self.forward(src_ids, tgt_in_ids)

    def loss(
        self,
        src_ids: object,
        tgt_in_ids: object,
        tgt_out_ids: object,
        ignore_index: int | None = None,
    ) -> float:
        """Cross-entropy of the logits for ``tgt_in_ids`` against ``tgt_out_ids`` ``[B, T]``.

        Positions whose ``tgt_out_ids`` equal ``ignore_index`` (padding) do not count.
        Keeps what :meth:`backward` needs.
        """
        loss = CrossEntropyLoss(ignore_index)
        src_ids = self._src_ids(src_ids)
        tgt_in_ids = self._tgt_ids(tgt_in_ids, "tgt_in_ids", src_ids.shape[0], "src_ids")
        as_ids(
            tgt_out_ids,
            "tgt_out_ids",
            self.config.tgt_vocab_size,
            shape=tgt_in_ids.shape,
            meaning="the shape of tgt_in_ids",
            ignore_index=loss.ignore_index,
        )
        value = loss.forward(self.forward(src_ids, tgt_in_ids), tgt_out_ids)
        self._loss = loss
        return value

    def backward(self) -> None:  # type: ignore[override]  # the loss starts the chain
        """Add the gradient of the last :meth:`loss` to every parameter's ``grads``."""
        if self._loss is None:
            raise RuntimeError("Transformer.backward needs a call to loss first")
        with inside_model():  # the loss's gradient and what follows the model makes
            dx = self.head.backward(self._loss.backward())  # [B, T, V] -> [B, T, C]
            dx = self.ln_decoder.backward(dx)  # [B, T, C]
            dmemory: np.ndarray | float = 0.0
            for block in reversed(self.decoder_blocks):
                dx, dmemory_block = block.backward(dx)  # [B, T, C], [B, S, C]
                dmemory = dmemory + dmemory_block  # every block read the same memory
            self.tgt_token_embedding.backward(self.tgt_position_embedding.backward(dx))
            dx = self.ln_encoder.backward(dmemory)  # [B, S, C]
            for encoder_block in reversed(self.encoder_blocks):
                dx = encoder_block.backward(dx)  # [B, S, C]
            self.src_token_embedding.backward(self.src_position_embedding.backward(dx))
        self._loss = None  # a second backward would add the same gradients twice

    def greedy_decode(
        self, src_ids: object, bos_id: int, eos_id: int, max_len: int
    ) -> list[list[int]]:
        """Write each target one token at a time, always taking the most likely next id.

        Parameters
        ----------
        src_ids : array_like of int, shape [B, S]
            The sources, all of the same length (pad them).
        bos_id, eos_id : int
            The target ids that begin and end a sequence.
        max_len : int
            At most this many ids are written per sequence (``<= tgt_block_size``).

        Returns
        -------
        list of list of int
            For each source, the ids written before the first ``eos_id`` (without
            ``bos_id`` and ``eos_id``); ``max_len`` ids if no ``eos_id`` came.
        """
        c = self.config
        src_ids = self._src_ids(src_ids)
        for value, name in ((bos_id, "bos_id"), (eos_id, "eos_id")):
            if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
                raise TypeError(f"{name} must be an int target id; got {describe(value)}")
            if not 0 <= value < c.tgt_vocab_size:
                raise ValueError(f"{name} must be in [0, {c.tgt_vocab_size}); got {value}")
        max_len = positive_int(max_len, "max_len")
        if max_len > c.tgt_block_size:
            raise ValueError(
                f"max_len must be at most tgt_block_size = {c.tgt_block_size}; got {max_len}"
            )
        B = src_ids.shape[0]
        memory = self.encode(src_ids)  # [B, S] -> [B, S, C], once for every step
        tgt = np.full((B, 1), bos_id, dtype=np.int64)  # [B, 1]
        done = np.zeros(B, dtype=bool)  # [B]
        for _ in range(max_len):
            logits = self.decode(tgt, memory)  # [B, t] -> [B, t, V]
            next_id = logits[:, -1].argmax(axis=-1)  # [B, t, V] -> [B]
            next_id[done] = eos_id  # finished sequences only pad
            tgt = np.concatenate([tgt, next_id[:, None]], axis=1)  # [B, t] -> [B, t + 1]
            done |= next_id == eos_id
            if done.all():
                break
        outputs = []
        for row in tgt[:, 1:].tolist():
            outputs.append(row[: row.index(eos_id)] if eos_id in row else row)
        return outputs

    def __repr__(self) -> str:
        return f"Transformer({self.config}, {self.n_parameters} parameters)"


def _check_ids(ids: object, name: str, vocab_size: int, block_size: int, axis: str) -> np.ndarray:
    """Integer ids ``[batch, axis]`` in ``[0, vocab_size)``, at most ``block_size`` long."""
    ids = as_ids(ids, name, vocab_size)
    if ids.ndim != 2:
        raise ValueError(f"{name} must have shape [batch, {axis}]; got shape {ids.shape}")
    if ids.shape[1] > block_size:
        kind = "src" if axis == "S" else "tgt"
        raise ValueError(
            f"{name} must have at most {kind}_block_size = {block_size} positions (axis 1); "
            f"got {ids.shape[1]}"
        )
    return ids
