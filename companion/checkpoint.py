"""Checkpoints: a trained GPT (or Transformer), its tokenizer and its training state in one file.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* every parameter under its dotted name (``"wte.W"``, ``"blocks.0.attn.W_q"``, ...);
* ``"__meta__"``: a JSON text stored as an array of bytes (``uint8``), with the format
  name and version, the model kind (``"gpt"`` or ``"transformer"``), the fields of its
  config, the tokenizer (the same JSON its ``save`` writes; a Transformer has a source and
  a target one), the step, the optimisers' settings and step counts, and any extra
  information (a validation loss, ...);
* ``"__m__.<name>"`` and ``"__v__.<name>"``: Adam's running averages, when optimisers are
  given, so that training can resume exactly where it stopped.

Nothing is pickled: the file is read with ``np.load(path, allow_pickle=False)``, so
opening a checkpoint never runs code. The file is written atomically: to a temporary
file in the same folder, flushed to the disk, then renamed over the old one, so a crash
while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from companion._validate import describe, float_dtype
from companion.bpe import BPETokenizer
from companion.char_tokenizer import CharTokenizer
from companion.gpt import GPT, GPTConfig
from companion.optim import Adam
from companion.transformer import Transformer, TransformerConfig

FORMAT = "companion-checkpoint"
VERSION = 1
META_KEY = "__meta__"
M_PREFIX, V_PREFIX = "__m__.", "__v__."

Tokenizer = CharTokenizer | BPETokenizer
#: A Transformer reads one alphabet and writes another: ``(source, target)``.
TokenizerPair = tuple[Tokenizer, Tokenizer]
Model = GPT | Transformer
_TOKENIZER_KINDS: dict[str, type[CharTokenizer] | type[BPETokenizer]] = {
    "char": CharTokenizer,
    "bpe": BPETokenizer,
}


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Model,
    *,
    tokenizer: Tokenizer | TokenizerPair,
    step: int,
    optimizers: Sequence[Adam] = (),
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``, its tokenizer and the training state to one ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or path-like
        The file to write, ending in ``.npz``; its folder must exist. An existing file is
        replaced only once the new one is completely on the disk.
    model : GPT or Transformer
        The model; every parameter is saved under its dotted name.
    tokenizer : CharTokenizer or BPETokenizer, or a pair of them
        The tokenizer the GPT reads; its vocabulary size must be the model's. For a
        Transformer, ``(source, target)``, with the model's two vocabulary sizes.
    step : int
        Optimisation steps taken so far, >= 0.
    optimizers : sequence of Adam or AdamW
        Optimisers over disjoint groups of the model's parameters (e.g. one with weight
        decay, one without); their ``m``, ``v`` and step count ``t`` are saved.
    extra : dict, optional
        Anything JSON can hold: a validation loss, the training options, a history.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    file = _check_path(path)
    if file.suffix != ".npz":
        raise ValueError(f"path must end in .npz; got {str(file)!r}")
    if not isinstance(model, GPT | Transformer):
        raise TypeError(f"model must be a GPT or a Transformer; got {describe(model)}")
    saved_tokenizer = _tokenizers_to_json(model, tokenizer)
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be an int >= 0; got {describe(step)}")
    if extra is not None and not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a dict or None; got {describe(extra)}")
    params = model.parameters()
    arrays: dict[str, np.ndarray] = dict(params)
    groups = []
    for optimizer in _check_optimizers(optimizers, params):
        groups.append(_optimizer_settings(optimizer))
        for name in optimizer.params:
            arrays[M_PREFIX + name] = optimizer.m[name]
            arrays[V_PREFIX + name] = optimizer.v[name]
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model": "gpt" if isinstance(model, GPT) else "transformer",
        "config": dataclasses.asdict(model.config),
        "dtype": np.dtype(model.dtype).name,
        "tokenizer": saved_tokenizer,
        "step": int(step),
        "optimizers": groups,
        "extra": dict(extra) if extra is not None else {},
    }
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"extra must hold only what JSON can store; {error}") from None
    arrays[META_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)  # [n_bytes]
    _write_atomically(file, arrays)
    return file


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    rng: np.random.Generator | int = 0,
    dtype: type | None = None,
) -> tuple[GPT, Tokenizer, dict[str, Any]]:
    """Read a GPT checkpoint written by :func:`save_checkpoint`, checking everything in it.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    rng : numpy.random.Generator or int
        For the model's dropout masks (the weights come from the file).
    dtype : numpy.float32 or numpy.float64, optional
        Of the model; by default the dtype it was saved in.

    Returns
    -------
    model : GPT
        The model, in training mode, with the saved parameters.
    tokenizer : CharTokenizer or BPETokenizer
        The saved tokenizer.
    info : dict
        ``"step"``, ``"config"`` (a dict), ``"extra"`` and ``"optimizers"``: a list with,
        for each saved optimiser, its settings, ``"t"``, and ``"m"``, ``"v"`` (dicts of
        arrays by parameter name); pass it to :func:`restore_optimizers`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable ``.npz`` archive (truncated, another kind of file),
        holds pickled objects, is not a companion checkpoint of a GPT or of another
        version, or a parameter is missing, unexpected, or of the wrong shape. The message
        names the path (and the parameter).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    file, arrays, meta = _open(path, "gpt")
    try:
        config = GPTConfig(**meta["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{file}: the saved config is not a valid GPTConfig: {error}") from None
    model = GPT(config, rng=rng, dtype=_model_dtype(meta, dtype))
    info = _fill(file, model, arrays, meta)
    tokenizer = _tokenizer_from_json(file, meta["tokenizer"])
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(
            f"{file}: the tokenizer has {tokenizer.vocab_size} tokens but the model's "
            f"vocab_size is {config.vocab_size}"
        )
    return model, tokenizer, info


def load_transformer_checkpoint(
    path: str | os.PathLike[str], *, dtype: type | None = None
) -> tuple[Transformer, TokenizerPair, dict[str, Any]]:
    """Read a Transformer checkpoint written by :func:`save_checkpoint`, checking everything.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    dtype : numpy.float32 or numpy.float64, optional
        Of the model; by default the dtype it was saved in.

    Returns
    -------
    model : Transformer
        The model with the saved parameters.
    tokenizers : tuple
        ``(source, target)``: the saved tokenizers of the two sides.
    info : dict
        As for :func:`load_checkpoint`.

    Raises
    ------
    FileNotFoundError, ValueError
        As for :func:`load_checkpoint`.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    file, arrays, meta = _open(path, "transformer")
    try:
        config = TransformerConfig(**meta["config"])
    except (TypeError, ValueError) as error:
        message = f"the saved config is not a valid TransformerConfig: {error}"
        raise ValueError(f"{file}: {message}") from None
    model = Transformer(config, rng=0, dtype=_model_dtype(meta, dtype))
    info = _fill(file, model, arrays, meta)
    saved = meta["tokenizer"]
    if not isinstance(saved, dict) or set(saved) != {"source", "target"}:
        raise ValueError(f"{file}: a Transformer's tokenizer must be a source and a target one")
    pair = []
    for side, size in (("source", config.src_vocab_size), ("target", config.tgt_vocab_size)):
        tokenizer = _tokenizer_from_json(file, saved[side])
        if tokenizer.vocab_size != size:
            raise ValueError(
                f"{file}: the {side} tokenizer has {tokenizer.vocab_size} tokens but the "
                f"model's {'src' if side == 'source' else 'tgt'}_vocab_size is {size}"
            )
        pair.append(tokenizer)
    return model, (pair[0], pair[1]), info


def _open(path: object, kind: str) -> tuple[Path, dict[str, np.ndarray], dict[str, Any]]:
    """The file, its arrays and its checked metadata, which must describe a ``kind`` model."""
    file = _check_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no checkpoint file at {file}")
    arrays = _read_arrays(file)
    meta = _read_meta(file, arrays)
    if meta.get("model") != kind:
        loader = {"gpt": "load_checkpoint", "transformer": "load_transformer_checkpoint"}
        hint = f" (read it with {loader[meta['model']]})" if meta.get("model") in loader else ""
        raise ValueError(
            f"{file} holds a model of kind {meta.get('model')!r}; expected {kind!r}{hint}"
        )
    return file, arrays, meta


def _model_dtype(meta: Mapping[str, Any], dtype: type | None) -> type:
    return float_dtype(meta["dtype"] if dtype is None else dtype)


def _fill(
    file: Path, model: Model, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """Copy the saved parameters into ``model``; return the info dict with optimiser states."""
    params = model.parameters()
    saved = {key for key in arrays if not key.startswith((M_PREFIX, V_PREFIX, META_KEY))}
    _check_names(file, "parameters", expected=set(params), found=saved)
    for name, p in params.items():
        p[...] = _checked_array(file, f"parameter {name!r}", arrays[name], p.shape)
    optimizers = []
    for k, group in enumerate(meta["optimizers"]):
        names = group.get("names") if isinstance(group, dict) else None
        if not isinstance(names, list) or not set(names) <= set(params):
            raise ValueError(f"{file}: optimizer {k} must list names of model parameters")
        state = dict(group)
        for key, prefix in (("m", M_PREFIX), ("v", V_PREFIX)):
            state[key] = {}
            for name in names:
                if prefix + name not in arrays:
                    raise ValueError(f"{file}: optimizer {k} has no {key!r} for {name!r}")
                state[key][name] = _checked_array(
                    file,
                    f"optimizer state {prefix + name!r}",
                    arrays[prefix + name],
                    params[name].shape,
                ).astype(model.dtype)
        optimizers.append(state)
    return {
        "step": meta["step"],
        "config": dataclasses.asdict(model.config),
        "extra": meta["extra"],
        "optimizers": optimizers,
    }


def restore_optimizers(optimizers: Sequence[Adam], saved: Sequence[Mapping[str, Any]]) -> None:
    """Put the saved ``m``, ``v`` and step count ``t`` back into freshly made optimisers.

    Parameters
    ----------
    optimizers : sequence of Adam or AdamW
        Made over the same groups of parameters, in the same order, as when saved.
    saved : sequence of dict
        ``info["optimizers"]`` from :func:`load_checkpoint`.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if len(optimizers) != len(saved):
        raise ValueError(
            f"optimizers must be as many as were saved ({len(saved)}); got {len(optimizers)}"
        )
    for k, (optimizer, state) in enumerate(zip(optimizers, saved, strict=True)):
        if sorted(optimizer.params) != sorted(state["names"]):
            raise ValueError(
                f"optimizers[{k}] must hold the parameters saved with it; "
                f"got {len(optimizer.params)} parameters, saved {len(state['names'])}"
            )
        for name in optimizer.params:
            optimizer.m[name][...] = state["m"][name]
            optimizer.v[name][...] = state["v"][name]
        optimizer.t = int(state["t"])


# -- helpers -------------------------------------------------------------------------------
def _check_path(path: object) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path; got {describe(path)}")
    return Path(path)


def _tokenizer_kind(tokenizer: object) -> str:
    for kind, cls in _TOKENIZER_KINDS.items():
        if isinstance(tokenizer, cls):
            return kind
    raise TypeError(
        f"tokenizer must be a CharTokenizer or a BPETokenizer; got {describe(tokenizer)}"
    )


def _tokenizers_to_json(model: Model, tokenizer: object) -> dict[str, Any]:
    """The saved form of the model's tokenizer (a GPT's), or its two (a Transformer's)."""
    if isinstance(model, GPT):
        kind = _tokenizer_kind(tokenizer)
        assert isinstance(tokenizer, CharTokenizer | BPETokenizer)
        if tokenizer.vocab_size != model.config.vocab_size:
            raise ValueError(
                f"tokenizer must have the model's vocab_size {model.config.vocab_size}; "
                f"got a tokenizer of {tokenizer.vocab_size} tokens"
            )
        return {"kind": kind, "json": _tokenizer_to_json(tokenizer)}
    if not isinstance(tokenizer, tuple) or len(tokenizer) != 2:
        raise TypeError(
            f"tokenizer must be a pair (source, target) of tokenizers for a Transformer; "
            f"got {describe(tokenizer)}"
        )
    saved = {}
    sizes = (model.config.src_vocab_size, model.config.tgt_vocab_size)
    for side, one, size in zip(("source", "target"), tokenizer, sizes, strict=True):
        kind = _tokenizer_kind(one)
        if one.vocab_size != size:
            raise ValueError(
                f"tokenizer[{0 if side == 'source' else 1}] (the {side}) must have the "
                f"model's vocabulary size {size}; got a tokenizer of {one.vocab_size} tokens"
            )
        saved[side] = {"kind": kind, "json": _tokenizer_to_json(one)}
    return saved


def _tokenizer_to_json(tokenizer: Tokenizer) -> dict[str, Any]:
    """The JSON object the tokenizer's own ``save`` writes (its format, version and data)."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "tokenizer.json"
        tokenizer.save(file)
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return data


def _tokenizer_from_json(file: Path, saved: object) -> Tokenizer:
    """Rebuild a tokenizer with its own ``load``, which checks every field."""
    kind = saved.get("kind") if isinstance(saved, dict) else None
    if kind not in _TOKENIZER_KINDS or not isinstance(saved, dict):
        raise ValueError(f"{file}: unknown tokenizer kind {kind!r}; expected 'char' or 'bpe'")
    with tempfile.TemporaryDirectory() as folder:
        tokenizer_file = Path(folder) / "tokenizer.json"
        tokenizer_file.write_text(json.dumps(saved.get("json")), encoding="utf-8")
        try:
            return _TOKENIZER_KINDS[kind].load(tokenizer_file)
        except ValueError as error:
            message = str(error).replace(str(tokenizer_file), "the tokenizer")
            raise ValueError(f"{file}: {message}") from None


def _check_optimizers(optimizers: object, params: Mapping[str, np.ndarray]) -> list[Adam]:
    if not isinstance(optimizers, Sequence) or not all(isinstance(o, Adam) for o in optimizers):
        raise TypeError(f"optimizers must be a list of Adam or AdamW; got {describe(optimizers)}")
    seen: set[str] = set()
    for k, optimizer in enumerate(optimizers):
        for name, p in optimizer.params.items():
            if params.get(name) is not p:
                raise ValueError(
                    f"optimizers[{k}] must hold the model's own parameters; {name!r} is not one"
                )
            if name in seen:
                raise ValueError(f"optimizers must hold disjoint parameters; {name!r} is twice")
            seen.add(name)
    return list(optimizers)


def _optimizer_settings(optimizer: Adam) -> dict[str, Any]:
    return {
        "kind": type(optimizer).__name__,
        "names": list(optimizer.params),
        "t": optimizer.t,
        "lr": optimizer.lr,
        "betas": [optimizer.beta1, optimizer.beta2],
        "eps": optimizer.eps,
        "weight_decay": getattr(optimizer, "weight_decay", 0.0),
    }


def _write_atomically(file: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` into a temporary file beside ``file``, fsync, then rename it over ``file``."""
    folder = file.parent if str(file.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"the folder of path does not exist: {folder}")
    handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is not
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (not possible on every system)
        directory = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, or a ValueError saying why the file cannot be one."""
    with open(file, "rb") as handle:
        head = handle.read(6)  # zip files start with "PK", .npy files with "\x93NUMPY"
    pickled = ValueError(
        f"{file} holds pickled Python objects; checkpoints never do, and loading them "
        "could run arbitrary code, so it is refused"
    )
    if head.startswith(b"\x80"):  # the first byte of a pickle (protocol 2 and later)
        raise pickled
    if head.startswith(b"\x93NUMPY"):
        try:
            np.load(file, allow_pickle=False)
        except ValueError:
            raise pickled from None
        raise ValueError(f"{file} is not a checkpoint: it is a single .npy array, not an .npz")
    if not head.startswith(b"PK"):
        raise ValueError(f"{file} is not a checkpoint: it is not an .npz (zip) archive")
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise pickled from None
        raise ValueError(f"{file} is not a readable .npz checkpoint: {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(
            f"{file} is not a readable .npz checkpoint (truncated or damaged): {error}"
        ) from None


def _read_meta(file: Path, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    raw = arrays.get(META_KEY)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"{file} is not a companion checkpoint: it has no {META_KEY!r} entry")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{file}: its {META_KEY!r} entry is not JSON ({error})") from None
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != FORMAT:
        raise ValueError(f"{file} is not a {FORMAT} file: its format is {found!r}")
    if meta.get("version") != VERSION:
        raise ValueError(
            f"{file} is a {FORMAT} file of version {meta.get('version')!r}; "
            f"this companion reads version {VERSION}"
        )
    for key, kind in (("config", dict), ("step", int), ("optimizers", list), ("extra", dict)):
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"{file}: {key!r} must be a {kind.__name__}; got {meta.get(key)!r}")
    return meta


def _check_names(file: Path, what: str, *, expected: set[str], found: set[str]) -> None:
    missing, unknown = sorted(expected - found), sorted(found - expected)
    if missing or unknown:
        raise ValueError(
            f"{file}: the {what} do not match the saved config; "
            f"missing {missing}, not in the model {unknown}"
        )


def _checked_array(file: Path, what: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if array.shape != shape:
        raise ValueError(
            f"{file}: {what} must have shape {shape} for the saved config; got {array.shape}"
        )
    if array.dtype.kind != "f":
        raise ValueError(f"{file}: {what} must be a float array; got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{file}: {what} holds NaN or infinite numbers")
    return array
