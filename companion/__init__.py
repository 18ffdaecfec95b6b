"""The companion package of *LLM Mysteries*: every idea of the book in plain NumPy.

The package is laid out by role; each module holds one idea and names the chapter that
teaches it:

``companion.layers``
    The layers and their gradient checks: linear, activations, softmax, losses,
    embeddings, attention, residual connections, layer normalization, dropout.
``companion.models``
    What the layers make: the leaf/flower network, the GPT, the Transformer, and the
    loop that writes text with them.
``companion.tokenizers``
    Text to token ids and back: one id per character, or byte-pair encoding.
``companion.data``
    The texts and tasks to train on, and the batches a training loop reads.
``companion.train``
    Optimisers, the training loop, checkpoints and the command ``python -m
    companion.train``.
``companion.aids``
    The book's drawings, widgets and exercise checkers.

Everything the chapters use can be imported from ``companion`` itself, for example
``from companion import Linear, softmax, GPT``.
"""

from companion.aids.exercises import check
from companion.data import get_batch, nursery_rhymes, tiny_shakespeare, train_val_split
from companion.layers.activations import GELU, ReLU, gelu, logistic, relu
from companion.layers.attention import SelfAttention, attention, attention_backward, causal_mask
from companion.layers.cross_attention import CrossAttention
from companion.layers.dropout import Dropout
from companion.layers.embedding import Embedding
from companion.layers.gradcheck import gradcheck, numerical_gradient, relative_error
from companion.layers.layernorm import LayerNorm
from companion.layers.linear import Linear
from companion.layers.losses import CrossEntropyLoss, MSELoss, cross_entropy, mean_squared_error
from companion.layers.mlp import MLP
from companion.layers.module import Module, Sequential
from companion.layers.multihead import MultiHeadAttention, merge_heads, split_heads
from companion.layers.positional import sinusoidal_encoding
from companion.layers.residual import Residual
from companion.layers.softmax import log_softmax, softmax
from companion.models.block import Block
from companion.models.generate import generate, sample_next, softmax_with_temperature
from companion.models.gpt import GPT, GPTConfig
from companion.models.kv_cache import KeyValueCache
from companion.models.network import (
    LEAF,
    SUNFLOWER,
    Network,
    collapse,
    forward,
    interpret,
    leaf_flower_network,
)
from companion.models.transformer import Transformer, TransformerConfig
from companion.tokenizers.bpe import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, BPETokenizer
from companion.tokenizers.char import CharTokenizer, letter_number
from companion.train.checkpoint import load_checkpoint
from companion.train.optim import SGD, Adam, AdamW, clip_grad_norm, lr_schedule

__version__ = "0.2.0"

__all__ = [
    "GELU",
    "GPT",
    "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN",
    "LEAF",
    "SGD",
    "SUNFLOWER",
    "Adam",
    "Block",
    "AdamW",
    "BPETokenizer",
    "CharTokenizer",
    "CrossAttention",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GPTConfig",
    "KeyValueCache",
    "LayerNorm",
    "Linear",
    "MLP",
    "MSELoss",
    "Module",
    "MultiHeadAttention",
    "Network",
    "ReLU",
    "Residual",
    "SelfAttention",
    "Sequential",
    "Transformer",
    "TransformerConfig",
    "attention",
    "attention_backward",
    "causal_mask",
    "check",
    "clip_grad_norm",
    "collapse",
    "cross_entropy",
    "forward",
    "gelu",
    "generate",
    "get_batch",
    "gradcheck",
    "interpret",
    "leaf_flower_network",
    "letter_number",
    "load_checkpoint",
    "log_softmax",
    "logistic",
    "lr_schedule",
    "mean_squared_error",
    "merge_heads",
    "numerical_gradient",
    "nursery_rhymes",
    "relative_error",
    "relu",
    "sample_next",
    "sinusoidal_encoding",
    "softmax",
    "softmax_with_temperature",
    "split_heads",
    "tiny_shakespeare",
    "train_val_split",
]
