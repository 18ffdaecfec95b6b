"""The companion package of *LLM Mysteries*: every idea of the book in plain NumPy.

Each module holds one concept and names the chapter that teaches it.

Part I, a simple neural network
    :mod:`~companion.network` (chapter 1), :mod:`~companion.activation` and
    :mod:`~companion.softmax` (chapter 2), :mod:`~companion.drawing`,
    :mod:`~companion.widgets`.
Part II, training
    :mod:`~companion.loss`, :mod:`~companion.gradcheck`, :mod:`~companion.module`,
    :mod:`~companion.linear`, :mod:`~companion.optim`, :mod:`~companion.widgets_training`
    (chapter 3), :mod:`~companion.gradient_flow` (chapter 4).
Part III, generating language
    :mod:`~companion.char_tokenizer`, :mod:`~companion.data`, :mod:`~companion.generation`
    (chapter 5).
Part IV, why LLMs work so well
    :mod:`~companion.embedding` (6), :mod:`~companion.bpe`, :mod:`~companion.widgets_tokens`
    (7),
    :mod:`~companion.attention` (8), :mod:`~companion.residual` (10),
    :mod:`~companion.layernorm` (11), :mod:`~companion.dropout` (12),
    :mod:`~companion.multihead` (13), :mod:`~companion.positional` (14).
Part V, architectures
    :mod:`~companion.gpt` (15), :mod:`~companion.cross_attention` and
    :mod:`~companion.transformer` (16).
Exercises
    :func:`companion.exercises.check`.
"""

from companion.activation import GELU, ReLU, gelu, logistic, relu
from companion.attention import SelfAttention, scaled_dot_product_attention
from companion.bpe import BPETokenizer
from companion.char_tokenizer import CharTokenizer
from companion.cross_attention import CrossAttention
from companion.dropout import Dropout
from companion.embedding import Embedding
from companion.generation import generate, sample_next
from companion.gpt import GPT, GPTConfig
from companion.gradcheck import gradcheck, numerical_gradient
from companion.layernorm import LayerNorm
from companion.linear import Linear
from companion.loss import CrossEntropyLoss, MSELoss, cross_entropy, mean_squared_error
from companion.module import Module, Sequential
from companion.multihead import MultiHeadAttention
from companion.network import (
    LEAF,
    SUNFLOWER,
    ForwardPass,
    Network,
    collapse,
    forward,
    interpret,
    leaf_flower_network,
)
from companion.optim import SGD, Adam, AdamW, clip_grad_norm, lr_schedule
from companion.positional import PositionalEmbedding, sinusoidal_encoding
from companion.residual import Residual
from companion.softmax import log_softmax, softmax
from companion.transformer import Transformer, TransformerConfig

__version__ = "0.1.0"

__all__ = [
    "GELU",
    "GPT",
    "GPTConfig",
    "LEAF",
    "SGD",
    "SUNFLOWER",
    "Adam",
    "AdamW",
    "BPETokenizer",
    "CharTokenizer",
    "CrossAttention",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "ForwardPass",
    "LayerNorm",
    "Linear",
    "MSELoss",
    "Module",
    "MultiHeadAttention",
    "Network",
    "PositionalEmbedding",
    "ReLU",
    "Residual",
    "SelfAttention",
    "Sequential",
    "Transformer",
    "TransformerConfig",
    "clip_grad_norm",
    "collapse",
    "cross_entropy",
    "forward",
    "gelu",
    "generate",
    "gradcheck",
    "interpret",
    "leaf_flower_network",
    "log_softmax",
    "logistic",
    "lr_schedule",
    "mean_squared_error",
    "numerical_gradient",
    "relu",
    "scaled_dot_product_attention",
    "sinusoidal_encoding",
    "sample_next",
    "softmax",
]
