"""Checkpoints: a trained GPT or Transformer, its tokenizer and its training state in one file.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* every parameter under its dotted name (``"wte.W"``, ``"blocks.0.attn.c_attn.W"``, ...);
* ``"__meta__"``: a JSON text stored as bytes, with the format name and version, the
  model's kind (``"gpt"`` or ``"transformer"``) and config, the tokenizer (the JSON its
  ``save`` writes; a Transformer has a source and a target one), the step, the
  optimisers' settings and step counts, and any extra information (losses, a history);
* ``"__m__.<name>"`` and ``"__v__.<name>"``: Adam's running averages, when optimisers are
  given, so that training can resume exactly where it stopped.

Nothing is pickled: the file is read with ``allow_pickle=False``, so opening a checkpoint
never runs code. It is written atomically (:mod:`companion.files`). Before anything is
built, :func:`load_checkpoint` reads every array's header and checks that the sizes it
claims are the sizes on the disk and that the config's parameter count is the count of
numbers in the file: an edited file cannot make the program allocate gigabytes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from companion.checks import describe, float_dtype, whole_number
from companion.files import MAX_JSON_BYTES, as_path, write_atomically
from companion.models.gpt import GPT, GPTConfig
from companion.models.transformer import Transformer, TransformerConfig
from companion.tokenizers.base import Tokenizer
from companion.tokenizers.bpe import BPETokenizer
from companion.tokenizers.char import CharTokenizer
from companion.train.optim import Adam

FORMAT, VERSION = "companion-checkpoint", 2
META, M_PREFIX, V_PREFIX = "__meta__", "__m__.", "__v__."
Model = GPT | Transformer
KINDS: dict[str, tuple[type[GPT] | type[Transformer], Any]] = {
    "gpt": (GPT, GPTConfig),
    "transformer": (Transformer, TransformerConfig),
}
TOKENIZERS: dict[str, Any] = {"char": CharTokenizer, "bpe": BPETokenizer}
HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def save_checkpoint(
    path: object,
    model: Model,
    *,
    tokenizer: Tokenizer | tuple[Tokenizer, Tokenizer],
    step: int,
    optimizers: Sequence[Adam] = (),
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``, its tokenizer and the training state to one ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or path-like
        The file to write, ending in ``.npz``; its folder must exist.
    model : GPT or Transformer
    tokenizer : tokenizer, or (source, target) for a Transformer
        With the model's vocabulary size(s).
    step : int
        Optimisation steps taken so far.
    optimizers : sequence of Adam or AdamW
        Over disjoint groups of the model's parameters; ``m``, ``v`` and ``t`` are saved.
    extra : dict, optional
        Anything JSON can hold: losses, the training options, a history.

    Notes
    -----
    Used by :func:`~companion.train.loop.train` (chapter 15) for its final and resume files.
    """
    file = as_path(path)
    if file.suffix != ".npz":
        raise ValueError(f"path must end in .npz; got {str(file)!r}")
    kind = next((k for k, (cls, _) in KINDS.items() if isinstance(model, cls)), None)
    if kind is None:
        raise TypeError(f"model must be a GPT or a Transformer; got {describe(model)}")
    arrays = dict(model.parameters())
    groups = []
    for optimizer in optimizers:
        if any(arrays.get(name) is not p for name, p in optimizer.params.items()):
            raise ValueError("optimizers must hold the model's own parameters")
        groups.append({"names": list(optimizer.params), "t": optimizer.t})
        arrays |= {M_PREFIX + name: m for name, m in optimizer.m.items()}
        arrays |= {V_PREFIX + name: v for name, v in optimizer.v.items()}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model": kind,
        "config": dataclasses.asdict(model.config),
        "dtype": model.dtype.name,
        "tokenizer": _tokenizers_to_json(model, tokenizer),
        "step": whole_number(step, "step"),
        "optimizers": groups,
        "extra": dict(extra or {}),
    }
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"extra must hold only what JSON can store; {error}") from None
    arrays[META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)  # [n_bytes]

    def write(out: IO[bytes]) -> None:
        np.savez(out, **arrays)  # type: ignore[arg-type]

    return write_atomically(file, write)


def load_checkpoint(
    path: object, *, dtype: object = None
) -> tuple[Model, Tokenizer | tuple[Tokenizer, Tokenizer], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`, checking everything in it.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    dtype : numpy.float32 or numpy.float64, optional
        Of the model; by default the dtype it was saved in.

    Returns
    -------
    model : GPT or Transformer
        With the saved parameters, in training mode.
    tokenizer : tokenizer, or (source, target) for a Transformer
    info : dict
        ``"kind"``, ``"step"``, ``"config"`` (a dict), ``"extra"`` and ``"optimizers"``
        (for each saved optimiser ``"names"``, ``"t"``, and ``"m"``, ``"v"`` by parameter
        name; pass it to :func:`restore_optimizers`).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable, uncompressed ``.npz`` archive (truncated, another
        kind of file), holds pickled objects or arrays larger than the file, is not a
        companion checkpoint of this version, or its parameters do not match its config.
        The message names the path (and the parameter).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    file = as_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no checkpoint file at {file}")
    headers = _read_headers(file)  # name -> (shape, dtype), nothing loaded yet
    with np.load(file, allow_pickle=False) as archive:
        meta = _read_meta(file, archive, headers)
        model_class, config_class = KINDS[meta["model"]]
        try:
            config = config_class(**meta["config"])
        except (TypeError, ValueError) as error:
            raise ValueError(f"{file}: the saved config is not a valid one: {error}") from None
        saved = {k: v for k, v in headers.items() if not k.startswith((META, M_PREFIX, V_PREFIX))}
        in_file = sum(math.prod(shape) for shape, _ in saved.values())
        if config.n_parameters() != in_file:
            raise ValueError(
                f"{file}: the saved config needs {config.n_parameters():,} parameters but the "
                f"file holds {in_file:,} numbers; the config and the arrays do not match"
            )
        model = model_class(config, rng=0, dtype=float_dtype(dtype or meta["dtype"]))
        params = model.parameters()
        _check_names(file, set(params), set(saved))
        for name, p in params.items():
            p[...] = _checked(file, f"parameter {name!r}", archive[name], p.shape)
        optimizers = []
        for k, group in enumerate(meta["optimizers"]):
            names = group.get("names") if isinstance(group, dict) else None
            if not isinstance(names, list) or not set(names) <= set(params):
                raise ValueError(f"{file}: optimizer {k} must list names of model parameters")
            state: dict[str, Any] = {"names": names, "t": whole_number(group.get("t"), "t")}
            for key, prefix in (("m", M_PREFIX), ("v", V_PREFIX)):
                state[key] = {}
                for n in names:
                    if prefix + n not in headers:
                        raise ValueError(f"{file}: optimizer {k} has no {key!r} for {n!r}")
                    array = archive[prefix + n]
                    state[key][n] = _checked(file, f"{prefix}{n}", array, params[n].shape)
            optimizers.append(state)
    tokenizer = _tokenizers_from_json(file, meta["tokenizer"], config)
    info = {"kind": meta["model"], "step": meta["step"], "config": dataclasses.asdict(config)}
    return model, tokenizer, info | {"extra": meta["extra"], "optimizers": optimizers}


def restore_optimizers(optimizers: Sequence[Adam], saved: Sequence[Mapping[str, Any]]) -> None:
    """Put the saved ``m``, ``v`` and step count ``t`` back into freshly made optimisers.

    Notes
    -----
    Used by :func:`~companion.train.loop.train` (chapter 15) when it resumes a run.
    """
    if len(optimizers) != len(saved):
        raise ValueError(
            f"optimizers must be as many as were saved ({len(saved)}); got {len(optimizers)}"
        )
    for k, (optimizer, state) in enumerate(zip(optimizers, saved, strict=True)):
        if sorted(optimizer.params) != sorted(state["names"]):
            raise ValueError(f"optimizers[{k}] must hold the parameters saved with it")
        for name in optimizer.params:
            optimizer.m[name][...] = state["m"][name]
            optimizer.v[name][...] = state["v"][name]
        optimizer.t = state["t"]


# -- reading safely ---------------------------------------------------------------------
def _read_headers(file: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of every array of the archive, read from the headers only.

    Each header's claimed size must be the size of the data stored after it.
    """
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(
            f"{file} is not a checkpoint: not a readable .npz archive ({error})"
        ) from None
    headers = {}
    with archive:
        for member in archive.infolist():
            name = member.filename.removesuffix(".npy")
            if member.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{file}: {name!r} is compressed; checkpoints are written plain")
            with archive.open(member) as data:
                try:
                    version = np.lib.format.read_magic(data)
                    read_header = HEADER_READERS.get(version)
                    if read_header is None:
                        raise ValueError(f".npy format version {version} is not written here")
                    shape, _, dtype = read_header(data)
                except ValueError as error:
                    raise ValueError(f"{file}: {name!r} is not a NumPy array ({error})") from None
                if dtype.hasobject:
                    raise ValueError(
                        f"{file} holds pickled Python objects ({name!r}); checkpoints never "
                        "do, and loading them could run code, so it is refused"
                    )
                claimed = data.tell() + math.prod(shape) * dtype.itemsize
            if claimed != member.file_size:
                raise ValueError(
                    f"{file}: the header of {name!r} claims shape {shape} ({claimed:,} bytes) "
                    f"but {member.file_size:,} bytes are stored (truncated or edited)"
                )
            headers[name] = (tuple(shape), dtype)
    return headers


def _read_meta(file: Path, archive: Any, headers: Mapping[str, Any]) -> dict[str, Any]:
    shape, dtype = headers.get(META, ((), None))
    if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_JSON_BYTES:
        raise ValueError(f"{file} is not a companion checkpoint: it has no {META!r} entry")
    try:
        meta = json.loads(archive[META].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{file}: its {META!r} entry is not JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{file} is not a {FORMAT} file")
    if meta.get("version") != VERSION:
        raise ValueError(
            f"{file} is a {FORMAT} file of version {meta.get('version')!r}; "
            f"this companion reads version {VERSION}"
        )
    if meta.get("model") not in KINDS:
        raise ValueError(f"{file}: unknown model kind {meta.get('model')!r}")
    for key, kind in (("config", dict), ("step", int), ("optimizers", list), ("extra", dict)):
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"{file}: {key!r} must be a {kind.__name__}; got {meta.get(key)!r}")
    return meta


def _check_names(file: Path, expected: set[str], found: set[str]) -> None:
    missing, unknown = sorted(expected - found), sorted(found - expected)
    if missing or unknown:
        raise ValueError(
            f"{file}: the parameters do not match the saved config; "
            f"missing {missing}, not in the model {unknown}"
        )


def _checked(file: Path, what: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if array.shape != shape or array.dtype.kind != "f":
        raise ValueError(
            f"{file}: {what} must be a float array of shape {shape}; got {describe(array)}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{file}: {what} holds NaN or infinite numbers")
    return array


# -- tokenizers, through their own save and load --------------------------------------------
def _tokenizer_to_json(tokenizer: object, size: int, which: str) -> dict[str, Any]:
    kind = "char" if isinstance(tokenizer, CharTokenizer) else "bpe"
    if not isinstance(tokenizer, CharTokenizer | BPETokenizer):
        raise TypeError(
            f"{which} must be a CharTokenizer or a BPETokenizer; got {describe(tokenizer)}"
        )
    if tokenizer.vocab_size != size:
        raise ValueError(
            f"{which} must have the model's vocabulary size {size}; got {tokenizer.vocab_size}"
        )
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "tokenizer.json"
        tokenizer.save(saved)
        return {"kind": kind, "json": json.loads(saved.read_text(encoding="utf-8"))}


def _tokenizers_to_json(model: Model, tokenizer: object) -> dict[str, Any]:
    """The saved form of a GPT's tokenizer, or of a Transformer's (source, target) pair."""
    if isinstance(model, GPT):
        return _tokenizer_to_json(tokenizer, model.config.vocab_size, "tokenizer")
    if not isinstance(tokenizer, tuple) or len(tokenizer) != 2:
        raise TypeError(f"tokenizer must be a pair (source, target); got {describe(tokenizer)}")
    c = model.config
    return {
        "source": _tokenizer_to_json(tokenizer[0], c.src_vocab_size, "tokenizer[0]"),
        "target": _tokenizer_to_json(tokenizer[1], c.tgt_vocab_size, "tokenizer[1]"),
    }


def _tokenizer_from_json(file: Path, saved: object, size: int) -> Tokenizer:
    kind = saved.get("kind") if isinstance(saved, dict) else None
    if kind not in TOKENIZERS or not isinstance(saved, dict):
        raise ValueError(f"{file}: unknown tokenizer kind {kind!r}; expected 'char' or 'bpe'")
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "tokenizer.json"
        written.write_text(json.dumps(saved.get("json")), encoding="utf-8")
        try:
            tokenizer: Tokenizer = TOKENIZERS[kind].load(written)
        except ValueError as error:
            raise ValueError(
                f"{file}: {str(error).replace(str(written), 'the tokenizer')}"
            ) from None
    if tokenizer.vocab_size != size:
        raise ValueError(
            f"{file}: the tokenizer has {tokenizer.vocab_size} tokens, the model {size}"
        )
    return tokenizer


def _tokenizers_from_json(
    file: Path, saved: object, config: GPTConfig | TransformerConfig
) -> Tokenizer | tuple[Tokenizer, Tokenizer]:
    if isinstance(config, GPTConfig):
        return _tokenizer_from_json(file, saved, config.vocab_size)
    if not isinstance(saved, dict) or set(saved) != {"source", "target"}:
        raise ValueError(f"{file}: a Transformer's tokenizer must be a source and a target one")
    return (
        _tokenizer_from_json(file, saved["source"], config.src_vocab_size),
        _tokenizer_from_json(file, saved["target"], config.tgt_vocab_size),
    )
