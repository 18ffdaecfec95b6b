"""GPT: token and position embeddings, a stack of Transformer blocks, and a tied head.

Every piece comes from an earlier chapter, and the names are nanoGPT's. Each id looks up
its embedding (``wte``, chapter 6) and gets its position's vector added (``wpe``, chapter
14). ``n_layer`` blocks follow; each adds two branches to the "residual stream" ``x``
(chapter 10), each branch starting with a layer normalization (chapter 11)::

    x = x + attn(ln_1(x))    # causal multi-head attention, chapter 13
    x = x + mlp(ln_2(x))     # c_fc -> GELU -> c_proj, the feed-forward layer

A last layer normalization, and the head turns each vector into one score per token of
the vocabulary. The head has no table of its own: it is the token table ``E`` read the
other way round, ``logits = x E^T`` ("weight tying"), so a token is predicted where its
embedding points; its gradient is added to the table's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from companion.checks import (
    as_generator,
    as_ids,
    describe,
    flag,
    float_dtype,
    number,
    positive_int,
)
from companion.layers.dropout import Dropout
from companion.layers.embedding import Embedding
from companion.layers.fast import matmul_rows
from companion.layers.layernorm import LayerNorm
from companion.layers.losses import CrossEntropyLoss
from companion.layers.module import Module
from companion.layers.multihead import check_heads
from companion.models.block import Block
from companion.models.generate import Model, generate
from companion.models.kv_cache import KeyValueCache
from companion.tokenizers.base import Tokenizer

#: Targets equal to this id are padding, which counts neither in the loss nor in its mean.
IGNORE_INDEX = -1
#: The spread of every initial weight of GPT-2 (less for the projections ending a branch).
INIT_STD = 0.02


@dataclass(frozen=True)
class GPTConfig:
    """The sizes of a GPT model, checked when it is made.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, ``V``.
    block_size : int
        The longest sequence the model reads, ``T`` at most.
    n_layer : int
        Number of Transformer blocks, ``L``.
    n_head : int
        Attention heads per block; must divide ``n_embd``.
    n_embd : int
        Numbers per token vector, ``C``.
    dropout : float
        Probability ``p_drop`` in ``[0, 1)`` of every dropout layer.
    bias : bool
        Biases in the linear layers and shifts in the layer normalizations (nanoGPT's
        ``bias``; ``False`` removes all of them).

    Examples
    --------
    >>> GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128).n_embd
    128

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer"):
            positive_int(getattr(self, name), name)
        check_heads(self.n_embd, self.n_head)
        number(self.dropout, "dropout", low=0, high=1, high_open=True)
        flag(self.bias, "bias")

    def n_parameters(self) -> int:
        """How many numbers a GPT of these sizes learns, counted from the sizes alone.

        Per block: the two layer normalizations' scales (``2 C``), the attention's
        ``c_attn`` (``C x 3C``) and ``c_proj`` (``C x C``), the MLP's ``c_fc``
        (``C x 4C``) and ``c_proj`` (``4C x C``): ``12 C^2 + 2 C``, plus ``11 C`` of biases
        and shifts with ``bias``. Then the token table ``V x C`` (also the head), the
        position table ``block_size x C`` and the final layer normalization.

        Examples
        --------
        >>> GPTConfig(65, 64, 4, 4, 128, bias=False).n_parameters()
        804096

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        C, b = self.n_embd, int(self.bias)
        block = 12 * C * C + 2 * C + b * 11 * C
        tables = (self.vocab_size + self.block_size) * C
        return tables + self.n_layer * block + C + b * C  # + ln_f's scale and shift


class GPT(Module):
    """A GPT language model: ids ``[B, T]`` -> next-token logits ``[B, T, V]`` (and a loss).

    ``logits, loss = model(ids, targets)`` checks both at the door and runs
    :meth:`forward`; ``model.backward()`` then adds every parameter's gradient, starting
    from that loss. Without ``targets`` the loss is ``None``.

    Parameters
    ----------
    config : GPTConfig
        The sizes.
    rng : numpy.random.Generator or int
        For the initial weights and the dropout masks (an int is a seed).
    dtype : numpy.float32 or numpy.float64
        Of every parameter, activation and gradient.

    Examples
    --------
    >>> config = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128,
    ...                    bias=False)
    >>> model = GPT(config, rng=0)
    >>> logits, loss = model(np.zeros((2, 10), dtype=np.int64))
    >>> logits.shape, loss
    ((2, 10, 65), None)
    >>> model.n_parameters, model.count_parameters(include_positions=False)
    (804096, 795904)

    Notes
    -----
    Initialisation follows GPT-2: every weight ``N(0, 0.02)``, biases 0, LayerNorm
    ``gamma`` 1 and ``beta`` 0, and the two projections that end a branch (``c_proj`` of
    the attention and of the MLP) ``N(0, 0.02 / sqrt(2 L))``: each block adds two branches
    to the residual stream, and the smaller start keeps its size from growing with depth.
    The one difference from nanoGPT: no dropout on the attention weights themselves.

    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self, config: GPTConfig, *, rng: np.random.Generator | int, dtype: object = np.float32
    ) -> None:
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig; got {describe(config)}")
        self.config, self.dtype, rng = config, float_dtype(dtype), as_generator(rng)
        C, dt = config.n_embd, self.dtype
        self.wte = Embedding(config.vocab_size, C, rng=rng, std=INIT_STD, dtype=dt)
        self.wpe = Embedding(config.block_size, C, rng=rng, std=INIT_STD, dtype=dt)  # positions
        self.drop = Dropout(config.dropout, rng=rng)
        proj_std = INIT_STD / math.sqrt(2 * config.n_layer)  # each block adds two branches
        self.blocks = [
            Block(
                C,
                config.n_head,
                True,
                config.bias,
                config.dropout,
                rng=rng,
                std=INIT_STD,
                proj_std=proj_std,
                dtype=dt,
            )
            for _ in range(config.n_layer)
        ]
        self.ln_f = LayerNorm(C, config.bias, dtype=dt)
        self.loss_fn = CrossEntropyLoss(ignore_index=IGNORE_INDEX)
        self.rng = rng  # the dropout masks' generator (saved with a resumable checkpoint)
        self.has_loss = False  # whether the last forward computed a loss to start backward

    def __call__(self, ids: object, targets: object = None) -> tuple[np.ndarray, float | None]:
        """Check ``ids`` (and ``targets``) at the door, then :meth:`forward`."""
        c = self.config
        ids = as_ids(ids, "ids", c.vocab_size, shape=("B", "T"), meaning="batch, positions")
        if ids.shape[1] > c.block_size:
            raise ValueError(
                f"ids must have at most block_size = {c.block_size} tokens per sequence; "
                f"got T = {ids.shape[1]}"
            )
        if targets is not None:
            targets = as_ids(
                targets,
                "targets",
                c.vocab_size,
                shape=ids.shape,
                meaning="the shape of ids",
                ignore_index=IGNORE_INDEX,
            )
        return self.forward(ids, targets)

    def forward(
        self, ids: np.ndarray, targets: np.ndarray | None = None
    ) -> tuple[np.ndarray, float | None]:
        positions = np.arange(ids.shape[1])  # 0, 1, ..., T - 1: ids of the position table
        x = self.wte.forward(ids) + self.wpe.forward(positions)  # [B, T, C] + [T, C]
        x = self.drop.forward(x)
        for block in self.blocks:
            x = block.forward(x)  # [B, T, C]
        self.x = x = self.ln_f.forward(x)  # [B, T, C], kept for the head's gradient
        logits = matmul_rows(x, self.wte.params["W"].T)  # [B, T, C] @ [C, V] -> [B, T, V]
        self.has_loss = targets is not None
        loss = self.loss_fn.forward(logits, targets) if targets is not None else None
        return logits, loss

    def backward(self) -> None:
        """Add d loss / d parameter to every gradient, from the loss of the last forward."""
        if not self.has_loss:
            raise RuntimeError("backward() needs a loss: call model(ids, targets) first")
        dlogits = self.loss_fn.backward()  # [B, T, V]
        V, C = self.config.vocab_size, self.config.n_embd
        self.wte.grads["W"] += dlogits.reshape(-1, V).T @ self.x.reshape(-1, C)  # the head
        dx = matmul_rows(dlogits, self.wte.params["W"])  # [B, T, V] @ [V, C] -> [B, T, C]
        dx = self.ln_f.backward(dx)
        for block in reversed(self.blocks):
            dx = block.backward(dx)  # [B, T, C]
        dx = self.drop.backward(dx)
        self.wpe.backward(dx.sum(axis=0))  # each position's vector served every sequence
        self.wte.backward(dx)  # ids have no gradient: nothing is returned

    # -- counting and writing ------------------------------------------------------------
    def count_parameters(self, include_positions: bool = True) -> int:
        """How many numbers the model learns; the tied table counts once.

        ``include_positions=False`` leaves out the position vectors, as nanoGPT's
        ``get_num_params()`` does by default.

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        positions = 0 if flag(include_positions, "include_positions") else self.wpe.params["W"].size
        return self.n_parameters - positions

    def forward_cached(
        self, ids: np.ndarray, start: int, caches: list[dict[str, np.ndarray]]
    ) -> np.ndarray:
        """The logits of new tokens ``ids`` ``[B, t]`` at positions ``start .. start + t - 1``.

        The keys and values of the positions before ``start`` are read from ``caches`` (one
        dict per block, empty at ``start`` 0) and the new ones are added to them: each token
        goes through the model once while generating, instead of once per new token. The
        logits equal those of :meth:`forward` on the whole sequence, at its last ``t``
        positions (up to the last bits: the products are shaped differently).

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        positions = np.arange(start, start + ids.shape[1])  # [t]
        x = self.wte.forward(ids) + self.wpe.forward(positions)  # [B, t, C] + [t, C]
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block.forward_cached(x, cache)  # [B, t, C]
        x = self.ln_f.forward(x)
        return matmul_rows(x, self.wte.params["W"].T)  # [B, t, C] @ [C, V] -> [B, t, V]

    def generate(
        self,
        ids: object,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | int | None = None,
        use_cache: bool = True,
    ) -> list[int] | np.ndarray:
        """:func:`companion.models.generate.generate` with this model, in evaluation mode.

        The window is the model's ``block_size``; the arguments mean what they mean there
        (temperature 0 is greedy decoding). With ``use_cache`` (the default) each step
        computes only the newest token, reusing the keys and values of the ones before
        (:class:`~companion.models.kv_cache.KeyValueCache`); the tokens are those of
        ``use_cache=False``.

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        was_training = self.training
        self.eval()
        uncached: Model = lambda window: self(window)[0]  # noqa: E731  # the whole window
        model = KeyValueCache(self) if flag(use_cache, "use_cache") else uncached
        try:
            return generate(
                model,
                ids,
                max_new_tokens,
                context_length=self.config.block_size,
                temperature=temperature,
                top_k=top_k,
                rng=rng,
            )
        finally:
            self.train(was_training)

    def complete(
        self,
        tokenizer: Tokenizer,
        prompt: str,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> str:
        """Continue the text ``prompt``: encode it, :meth:`generate`, decode everything.

        Examples
        --------
        >>> from companion.tokenizers.char import CharTokenizer
        >>> tok = CharTokenizer("ab")
        >>> model = GPT(GPTConfig(vocab_size=2, block_size=4, n_layer=1, n_head=1, n_embd=4), rng=0)
        >>> len(model.complete(tok, "ab", 3, temperature=0))
        5

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(f"prompt must be a non-empty str; got {describe(prompt)}")
        if tokenizer.vocab_size != self.config.vocab_size:
            raise ValueError(
                f"tokenizer must have the model's vocab_size {self.config.vocab_size}; "
                f"got one of {tokenizer.vocab_size} tokens"
            )
        try:
            ids = tokenizer.encode(prompt)
        except ValueError as error:  # "text has characters the tokenizer does not know: ..."
            raise ValueError(str(error).replace("text has", "prompt has", 1)) from None
        out = self.generate(ids, max_new_tokens, temperature=temperature, top_k=top_k, rng=rng)
        assert isinstance(out, list)  # one prompt in, one list of ids out
        return tokenizer.decode(out)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"GPT(vocab_size={c.vocab_size}, block_size={c.block_size}, n_layer={c.n_layer}, "
            f"n_head={c.n_head}, n_embd={c.n_embd}; {self.n_parameters} parameters)"
        )
