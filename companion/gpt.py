"""GPT: token and position embeddings, a stack of Transformer blocks, and a tied head.

Every piece comes from an earlier chapter. Each id looks up its embedding (chapter 6) and
gets its position's vector added (chapter 14). ``n_layer`` blocks follow, each made of two
residual branches (chapter 10) that start with a layer normalization (chapter 11,
"pre-LN", as in GPT-2)::

    x = x + attn(LN_1(x))    # causal multi-head attention, chapter 13
    x = x + mlp(LN_2(x))     # Linear(C, 4C) -> GELU -> Linear(4C, C) (-> Dropout)

A last layer normalization, and the head turns each vector into one score per token of
the vocabulary. The head has no table of its own: it is the token embedding table ``E``
read the other way round, ``logits = x E^T`` ("weight tying"), so a token is predicted
where its embedding points. In the backward pass the head's gradient is therefore added
to the embedding table's gradient, the same array.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Protocol

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
from companion.dropout import Dropout
from companion.embedding import INIT_STD, Embedding
from companion.generation import _check_top_k, sample_next
from companion.layernorm import LayerNorm
from companion.linear import Linear, matmul_rows
from companion.loss import CrossEntropyLoss
from companion.module import Module, Sequential
from companion.multihead import MultiHeadAttention, check_heads
from companion.positional import PositionalEmbedding
from companion.residual import Residual


class TextTokenizer(Protocol):
    """What :meth:`GPT.complete` needs of a tokenizer (the character and BPE ones have it)."""

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


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
        Probability ``p_drop`` in ``[0, 1)`` of the dropout layers (none when 0).
    bias : bool
        Whether the linear layers have biases.

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
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            positive_int(getattr(self, name), name)
        check_heads(self.n_embd, self.n_head)  # names n_embd and n_head and both numbers
        p = self.dropout
        if isinstance(p, bool | np.bool_) or not isinstance(p, numbers.Real):
            raise TypeError(f"dropout must be a number in [0, 1); got {describe(p)}")
        if not 0 <= p < 1:  # also refuses NaN
            raise ValueError(f"dropout must be in [0, 1) (1 would drop everything); got {p}")
        if not isinstance(self.bias, bool | np.bool_):
            raise TypeError(f"bias must be True or False; got {describe(self.bias)}")


def _normal(
    rng: np.random.Generator, shape: tuple[int, ...], std: float, dtype: type
) -> np.ndarray:
    """Numbers drawn from N(0, std**2), created directly in ``dtype``."""
    W = rng.standard_normal(shape, dtype=dtype)
    W *= W.dtype.type(std)
    return W


class Block(Module):
    """One pre-LN Transformer block: ``x + attn(LN_1(x))``, then ``x + mlp(LN_2(x))``.

    Parameters
    ----------
    config : GPTConfig
        The sizes.
    rng : numpy.random.Generator
        For the initial weights and the dropout masks.
    dtype : numpy.float32 or numpy.float64
        Of the parameters.

    Attributes
    ----------
    ln_1, attn, ln_2, fc, proj : Module
        The layers, named as in nanoGPT: ``attn`` is the causal multi-head attention (its
        ``W_o``, ``b_o`` are the attention's output projection), ``fc`` the MLP's
        ``Linear(C, 4C)`` and ``proj`` its ``Linear(4C, C)``.
    attn_dropout, mlp_dropout : Dropout or None
        End each branch when ``config.dropout > 0``.

    Notes
    -----
    The branches are ``Residual(Sequential(ln_1, attn[, attn_dropout]))`` and
    ``Residual(Sequential(ln_2, fc, GELU, proj[, mlp_dropout]))``; :meth:`children`
    lists the layers inside them by the names above, so the parameters are called
    ``"blocks.0.attn.W_o"`` rather than ``"blocks.0.attn_branch.inner.layers.1.W_o"``.

    Taught in chapter 15, The GPT architecture.
    """

    def __init__(self, config: GPTConfig, *, rng: np.random.Generator, dtype: type) -> None:
        super().__init__()
        C, p_drop, bias = config.n_embd, config.dropout, config.bias
        self.ln_1 = LayerNorm(C, dtype=dtype)
        self.attn = MultiHeadAttention(C, config.n_head, causal=True, rng=rng, dtype=dtype)
        self.ln_2 = LayerNorm(C, dtype=dtype)
        self.fc = Linear(C, 4 * C, bias, rng=rng, dtype=dtype)  # [B, T, C] -> [B, T, 4C]
        self.gelu = GELU()
        self.proj = Linear(4 * C, C, bias, rng=rng, dtype=dtype)  # [B, T, 4C] -> [B, T, C]
        self.attn_dropout = Dropout(p_drop, rng=rng) if p_drop > 0 else None
        self.mlp_dropout = Dropout(p_drop, rng=rng) if p_drop > 0 else None
        attn_layers: list[Module] = [self.ln_1, self.attn]
        mlp_layers: list[Module] = [self.ln_2, self.fc, self.gelu, self.proj]
        if self.attn_dropout is not None and self.mlp_dropout is not None:
            attn_layers.append(self.attn_dropout)
            mlp_layers.append(self.mlp_dropout)
        self.attn_branch = Residual(Sequential(*attn_layers))  # x + attn(LN_1(x))
        self.mlp_branch = Residual(Sequential(*mlp_layers))  # x + mlp(LN_2(x))

    def children(self) -> dict[str, Module]:
        """The layers by their names (each once, although the branches hold them too)."""
        found = {"ln_1": self.ln_1, "attn": self.attn, "ln_2": self.ln_2, "fc": self.fc}
        found |= {"gelu": self.gelu, "proj": self.proj}
        if self.attn_dropout is not None and self.mlp_dropout is not None:
            found |= {"attn_dropout": self.attn_dropout, "mlp_dropout": self.mlp_dropout}
        return found

    def train(self, mode: bool = True) -> Module:
        """Switch the layers and the two branches holding them to training (or eval) mode."""
        self.attn_branch.train(mode)
        self.mlp_branch.train(mode)
        return super().train(mode)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``[B, T, C]`` -> ``[B, T, C]``."""
        return self.mlp_branch.forward(self.attn_branch.forward(x))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """d loss / d x, adding every parameter's gradient."""
        return self.attn_branch.backward(self.mlp_branch.backward(dout))


class GPT(Module):
    """A GPT language model: ids ``[B, T]`` -> next-token logits ``[B, T, V]``.

    Parameters
    ----------
    config : GPTConfig
        The sizes.
    rng : numpy.random.Generator or int
        For the initial weights and the dropout masks (an int is a seed).
    dtype : numpy.float32 or numpy.float64
        Of every parameter, activation and gradient.

    Attributes
    ----------
    wte : Embedding
        The token table ``E``, ``[V, C]``; also the head (tied weights).
    wpe : PositionalEmbedding
        The learned position vectors, ``[block_size, C]``.
    blocks : list of Block
        The ``n_layer`` Transformer blocks.
    ln_f : LayerNorm
        The final layer normalization.

    Examples
    --------
    >>> config = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)
    >>> model = GPT(config, rng=np.random.default_rng(0))
    >>> model.forward(np.zeros((2, 10), dtype=np.int64)).shape
    (2, 10, 65)
    >>> model.n_parameters, model.count_parameters(include_positions=False)
    (808320, 800128)

    Notes
    -----
    Initialisation follows GPT-2: every weight ``N(0, 0.02)``, biases 0, LayerNorm
    ``gamma`` 1 and ``beta`` 0, and the two projections that end a residual branch
    (the attention's ``W_o`` and the MLP's second ``Linear``) ``N(0, 0.02 / sqrt(2 L))``:
    each block adds two branches to the residual stream, and the smaller start keeps its
    size from growing with depth.

    Differences from nanoGPT's ``GPT``: the attention has no biases on ``W_q, W_k, W_v``
    (so ``3 C`` fewer numbers per block); ``bias=False`` removes the biases of the MLP's
    linear layers but keeps the attention's ``b_o`` and LayerNorm's ``beta`` (those layers
    have no option to drop them); there is no dropout on the attention weights (dropout,
    when ``p_drop > 0``, follows the embeddings and ends each residual branch).

    ``n_parameters`` (a property, like every layer's) counts the tied table once: it is
    one parameter, ``"wte.W"``.

    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self,
        config: GPTConfig,
        *,
        rng: np.random.Generator | int,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig; got {describe(config)}")
        self.config = config
        self.dtype = float_dtype(dtype)
        rng = as_generator(rng)
        C, L = config.n_embd, config.n_layer
        self.wte = Embedding(config.vocab_size, C, rng=rng, dtype=self.dtype)
        self.wpe = PositionalEmbedding(config.block_size, C, rng=rng, dtype=self.dtype)
        self.drop = Dropout(config.dropout, rng=rng) if config.dropout > 0 else None
        self.blocks = [Block(config, rng=rng, dtype=self.dtype) for _ in range(L)]
        self.ln_f = LayerNorm(C, dtype=self.dtype)
        self.criterion = CrossEntropyLoss()
        self._init_weights(rng)
        self.x_final: np.ndarray | None = None  # the input of the head, [B, T, C]
        self.loss_ready = False  # whether backward() may start from the loss

    def _init_weights(self, rng: np.random.Generator) -> None:
        """GPT-2's initial values, written into the layers' arrays in place."""
        std_residual = INIT_STD / math.sqrt(2 * self.config.n_layer)
        for block in self.blocks:
            projections = {id(block.attn.params["W_o"]), id(block.proj.params["W"])}
            for _, p, _ in block.named_parameters():
                if p.ndim == 2:  # a weight matrix
                    std = std_residual if id(p) in projections else INIT_STD
                    p[...] = _normal(rng, p.shape, std, self.dtype)
                # biases already start at 0, LayerNorm gamma at 1 and beta at 0

    # -- counting -----------------------------------------------------------------------
    def count_parameters(self, include_positions: bool = True) -> int:
        """How many numbers the model learns; the tied table counts once.

        ``include_positions=False`` leaves out the position vectors, as nanoGPT's
        ``get_num_params()`` does by default.

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        if not isinstance(include_positions, bool):
            raise TypeError(
                f"include_positions must be True or False; got {describe(include_positions)}"
            )
        total = self.n_parameters
        return total if include_positions else total - self.wpe.params["W"].size

    # -- computing ----------------------------------------------------------------------
    def _check_ids(self, ids: object, name: str) -> np.ndarray:
        V, block_size = self.config.vocab_size, self.config.block_size
        array = np.asarray(ids) if isinstance(ids, list | tuple | np.ndarray) else ids
        if isinstance(array, np.ndarray) and array.ndim != 2:
            raise ValueError(
                f"{name} must have shape [B, T] (a batch of sequences of token ids); "
                f"got shape {array.shape}"
            )
        checked = as_ids(array, name, V)
        if checked.ndim != 2:
            raise ValueError(f"{name} must have shape [B, T]; got {describe(ids)}")
        if checked.shape[1] > block_size:
            raise ValueError(
                f"{name} must have at most block_size = {block_size} tokens per sequence "
                f"(axis 1); got T = {checked.shape[1]}"
            )
        return checked

    def forward(self, ids: object) -> np.ndarray:
        """Token ids ``[B, T]`` (``T <= block_size``, ids in ``[0, V)``) -> logits ``[B, T, V]``."""
        ids = self._check_ids(ids, "ids")
        self.loss_ready = False
        with inside_model():  # every array below is one the model made
            x = self.wpe.forward(self.wte.forward(ids))  # [B, T] -> [B, T, C]
            if self.drop is not None:
                x = self.drop.forward(x)
            for block in self.blocks:
                x = block.forward(x)  # [B, T, C] -> [B, T, C]
            x = self.ln_f.forward(x)  # [B, T, C]
        self.x_final = x
        return matmul_rows(x, self.wte.params["W"].T)  # [B, T, C] @ [C, V] -> [B, T, V]

    def loss(self, ids: object, targets: object) -> float:
        """Mean cross-entropy of the logits for ``ids`` against ``targets`` (both ``[B, T]``)."""
        logits = self.forward(ids)
        value = self.criterion.forward(logits, targets)  # checks targets: shape and range
        self.loss_ready = True
        return value

    def backward(self, dlogits: object = None) -> None:  # type: ignore[override]  # ids: no gradient
        """Add d loss / d parameter to every gradient.

        Without ``dlogits`` the pass starts from the loss of the last :meth:`loss` call;
        otherwise from ``dlogits``, d loss / d logits ``[B, T, V]`` of the last
        :meth:`forward`. Returns ``None``: ids have no gradient.
        """
        if self.x_final is None:
            raise RuntimeError("GPT.backward needs a forward pass (or loss) first")
        x = self.x_final
        B, T, C = x.shape
        V = self.config.vocab_size
        if dlogits is None:
            if not self.loss_ready:
                raise RuntimeError(
                    "GPT.backward() without dlogits needs loss(ids, targets) first (the last "
                    "forward was not part of a loss); or pass dlogits of shape [B, T, V]"
                )
            dlogits = self.criterion.backward()
        dlogits_array = as_float_array(dlogits, "dlogits", shapes=[(B, T, V)])
        dlogits_array = dlogits_array.astype(self.dtype, copy=False)
        E = self.wte.params["W"]
        dlogits_rows = dlogits_array.reshape(B * T, V)  # [B, T, V] -> [B*T, V]
        self.wte.grads["W"] += dlogits_rows.T @ x.reshape(B * T, C)  # [V, B*T] @ [B*T, C]
        dx = matmul_rows(dlogits_array, E)  # [B, T, V] @ [V, C] -> [B, T, C]
        with inside_model():  # dlogits was checked; the rest the model makes
            dx = self.ln_f.backward(dx)
            for block in reversed(self.blocks):
                dx = block.backward(dx)  # [B, T, C] -> [B, T, C]
            if self.drop is not None:
                dx = self.drop.backward(dx)
            self.wte.backward(self.wpe.backward(dx))  # adds to the head's gradient

    # -- writing ------------------------------------------------------------------------
    def generate(
        self,
        ids: object,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        greedy: bool = False,
        rng: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """Extend each sequence of ``ids`` ``[B, T]`` by ``max_new_tokens`` tokens.

        Each step reads the last ``block_size`` tokens (a longer prompt is cropped on the
        left), takes the logits at the last position and picks the next token with
        :func:`companion.generation.sample_next`: the most likely one if ``greedy``,
        otherwise a draw from ``softmax(logits / temperature)`` over the ``top_k`` most
        likely tokens (all of them if ``top_k`` is None). Dropout is off while generating
        (the model is put back in its mode afterwards).

        Parameters
        ----------
        ids : array_like of int, shape [B, T]
            The prompts (T may exceed ``block_size``).
        max_new_tokens : int
            How many tokens to add, >= 0.
        temperature : float
            > 0 unless ``greedy``.
        top_k : int, optional
            In ``[1, V]``.
        greedy : bool
            Pick the most likely token; no ``rng`` needed.
        rng : numpy.random.Generator or int
            Needed unless ``greedy``; the same seed gives the same tokens.

        Returns
        -------
        numpy.ndarray of int64, shape [B, T + max_new_tokens]
            The prompts followed by the new tokens.

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        V, block_size = self.config.vocab_size, self.config.block_size
        array = np.asarray(ids) if isinstance(ids, list | tuple | np.ndarray) else ids
        if isinstance(array, np.ndarray) and array.ndim != 2:
            raise ValueError(f"ids must have shape [B, T]; got shape {array.shape}")
        out = as_ids(array, "ids", V).astype(np.int64)  # [B, T]
        if isinstance(max_new_tokens, bool | np.bool_) or not isinstance(
            max_new_tokens, int | np.integer
        ):
            raise TypeError(f"max_new_tokens must be an int >= 0; got {describe(max_new_tokens)}")
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0; got {max_new_tokens}")
        if not isinstance(greedy, bool):
            raise TypeError(f"greedy must be True or False; got {describe(greedy)}")
        _check_top_k(top_k, V)
        generator = None
        if not greedy:
            if isinstance(temperature, bool | np.bool_) or not isinstance(
                temperature, numbers.Real
            ):
                raise TypeError(f"temperature must be a number > 0; got {describe(temperature)}")
            if not (math.isfinite(temperature) and temperature > 0):
                raise ValueError(
                    f"temperature must be a finite number > 0 (or use greedy=True); "
                    f"got {temperature!r}"
                )
            if rng is None:
                raise ValueError(
                    "rng is needed to sample (pass np.random.default_rng(seed) or a seed); "
                    "only greedy=True works without one"
                )
            generator = as_generator(rng)
        was_training = self.training
        self.eval()
        try:
            for _ in range(int(max_new_tokens)):
                window = out[:, -block_size:]  # [B, T] -> [B, min(T, block_size)]
                last = self.forward(window)[:, -1, :]  # [B, T', V] -> [B, V]
                new = [
                    sample_next(row, 0.0 if greedy else temperature, generator, top_k)
                    for row in last  # one draw per sequence of the batch
                ]
                out = np.concatenate([out, np.array(new, dtype=np.int64)[:, None]], axis=1)
        finally:
            self.train(was_training)
        return out

    def complete(
        self,
        tokenizer: TextTokenizer,
        prompt: str,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        greedy: bool = False,
        rng: np.random.Generator | int | None = None,
    ) -> str:
        """Continue the text ``prompt``: encode it, :meth:`generate`, decode everything.

        Parameters
        ----------
        tokenizer : CharTokenizer or BPETokenizer
            The tokenizer the model was trained with (a checkpoint holds it).
        prompt : str
            At least one character, every one known to the tokenizer.
        max_new_tokens, temperature, top_k, greedy, rng
            As for :meth:`generate`.

        Returns
        -------
        str
            The prompt followed by the new text.

        Raises
        ------
        ValueError
            If the prompt is empty or has characters the tokenizer does not know (they are
            named), or for the reasons of :meth:`generate`.

        Examples
        --------
        >>> from companion.char_tokenizer import CharTokenizer
        >>> tok = CharTokenizer("ab")
        >>> model = GPT(GPTConfig(vocab_size=2, block_size=4, n_layer=1, n_head=1, n_embd=4), rng=0)
        >>> len(model.complete(tok, "ab", 3, greedy=True))
        5

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str; got {describe(prompt)}")
        if not prompt:
            raise ValueError("prompt must hold at least one character; got an empty string")
        if getattr(tokenizer, "vocab_size", None) != self.config.vocab_size:
            raise ValueError(
                f"tokenizer must have the model's vocab_size {self.config.vocab_size}; "
                f"got {describe(tokenizer)}"
            )
        try:
            ids = tokenizer.encode(prompt)
        except ValueError as error:  # "text has characters the tokenizer does not know: ..."
            raise ValueError(str(error).replace("text has", "prompt has", 1)) from None
        out = self.generate([ids], max_new_tokens, temperature, top_k, greedy, rng)
        return tokenizer.decode(out[0].tolist())

    def __repr__(self) -> str:
        c = self.config
        return (
            f"GPT(vocab_size={c.vocab_size}, block_size={c.block_size}, n_layer={c.n_layer}, "
            f"n_head={c.n_head}, n_embd={c.n_embd}; {self.n_parameters} parameters)"
        )
