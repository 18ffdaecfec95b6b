"""Checkpoints: round trips, atomic writes, and every file that must be refused.

A checkpoint is read without pickle, and its sizes are checked before anything is built:
no file, however edited, can run code, hang, or make the program allocate gigabytes.
"""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from companion import (
    GPT,
    AdamW,
    BPETokenizer,
    CharTokenizer,
    GPTConfig,
    Transformer,
    TransformerConfig,
    load_checkpoint,
)
from companion.train.checkpoint import META, restore_optimizers, save_checkpoint

TEXT = "to be or not to be, that is the question"
TOKENIZER = CharTokenizer.from_text(TEXT)
CONFIG = GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=8, n_layer=2, n_head=2, n_embd=8)


def trained() -> tuple[GPT, list[AdamW]]:
    """A tiny model after two AdamW steps, so that m, v and t are not their starting values."""
    model = GPT(CONFIG, rng=0)
    optimizer = AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    ids = np.array([TOKENIZER.encode(TEXT[:9])])  # [1, 9]
    for _ in range(2):
        model.zero_grad()
        model(ids[:, :-1], ids[:, 1:])
        model.backward()
        optimizer.step(model.gradients())
    return model, [optimizer]


def save(path: Path, step: int = 2) -> Path:
    model, optimizers = trained()
    extra = {"val_loss": 1.5}
    return save_checkpoint(
        path, model, tokenizer=TOKENIZER, step=step, optimizers=optimizers, extra=extra
    )


def rewrite(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """Copy a checkpoint's arrays, let ``change`` edit the dict, and write it with np.savez."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    np.savez(target, **arrays)
    return target


def set_meta(arrays: dict, **fields: object) -> None:
    meta = json.loads(arrays[META].tobytes().decode("utf-8")) | fields
    arrays[META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)


# -- round trips -----------------------------------------------------------------------------


def test_a_gpt_round_trip_restores_parameters_tokenizer_step_extra_and_optimizer(tmp_path):
    model, optimizers = trained()
    path = save(tmp_path / "a.npz")
    loaded, tokenizer, info = load_checkpoint(path)
    for name, p in model.parameters().items():
        assert np.array_equal(loaded.parameters()[name], p), name
    assert tokenizer.alphabet == TOKENIZER.alphabet
    assert info["kind"] == "gpt" and info["step"] == 2 and info["extra"] == {"val_loss": 1.5}
    fresh = [AdamW(loaded.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)]
    restore_optimizers(fresh, info["optimizers"])
    assert fresh[0].t == optimizers[0].t == 2
    for name in model.parameters():
        assert np.array_equal(fresh[0].m[name], optimizers[0].m[name])
        assert np.array_equal(fresh[0].v[name], optimizers[0].v[name])


def test_a_transformer_with_two_tokenizers_and_float64_round_trip(tmp_path):
    source, target = CharTokenizer("0123456789"), BPETokenizer()
    config = TransformerConfig(source.vocab_size, target.vocab_size, 4, 5, 1, 2, 8)
    model = Transformer(config, rng=0, dtype=np.float64)
    path = save_checkpoint(tmp_path / "t.npz", model, tokenizer=(source, target), step=0)
    loaded, (s, t), info = load_checkpoint(path)
    assert isinstance(loaded, Transformer) and loaded.dtype == np.float64
    assert s.alphabet == source.alphabet and t.vocab_size == 256
    assert load_checkpoint(path, dtype=np.float32)[0].dtype == np.float32


def test_the_file_is_a_plain_zip_of_npy_arrays_with_a_json_description(tmp_path):
    path = save(tmp_path / "a.npz")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert all(name.endswith(".npy") for name in names) and f"{META}.npy" in names
    with np.load(path, allow_pickle=False) as arrays:  # no object arrays: no pickle
        meta = json.loads(arrays[META].tobytes().decode("utf-8"))
        assert all(arrays[key].dtype != object for key in arrays.files)
    assert meta["model"] == "gpt" and meta["tokenizer"]["kind"] == "char"


# -- atomic writing --------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = save(tmp_path / "a.npz", step=1)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(file, **arrays):  # type: ignore[no-untyped-def]
        real_savez(file, **dict(list(arrays.items())[:3]))  # a part is written...
        raise OSError("disk full")  # ...then the write fails

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save(tmp_path / "a.npz", step=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and load_checkpoint(path)[2]["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


# -- files that are refused ------------------------------------------------------------------


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"no checkpoint file at {tmp_path}")):
        load_checkpoint(tmp_path / "nothing.npz")


@pytest.mark.parametrize("what", ["truncated", "text", "npy"])
def test_a_file_that_is_not_an_npz_archive_is_refused(tmp_path, what):
    path = tmp_path / "x.npz"
    if what == "truncated":
        whole = save(tmp_path / "a.npz").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif what == "text":
        path.write_text("not an archive")
    else:
        np.save(tmp_path / "x.npy", np.zeros(3))
        (tmp_path / "x.npy").rename(path)
    with pytest.raises(ValueError, match=re.escape(f"{path} is not a checkpoint")):
        load_checkpoint(path)


def test_pickled_objects_are_refused_before_any_is_loaded(tmp_path):
    objects = rewrite(
        save(tmp_path / "a.npz"),
        tmp_path / "objects.npz",
        lambda a: a.__setitem__("extra", np.array([print], dtype=object)),
    )
    with pytest.raises(ValueError, match=re.escape(f"{objects} holds pickled Python objects")):
        load_checkpoint(objects)


def test_a_header_claiming_a_trillion_numbers_is_refused_without_allocating(tmp_path):
    """An .npy header is a promise; the bytes after it must keep it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    )
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:  # np.savez's layout: stored, not compressed
        archive.writestr("wte.W.npy", np.lib.format.MAGIC_PREFIX[:0] + header.getvalue())
        archive.writestr(f"{META}.npy", b"")
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"claims shape \(1000000000000,\)"):
        load_checkpoint(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_a_config_edited_to_gigabytes_is_refused_before_the_model_is_built(tmp_path):
    huge = dict(CONFIG.__dict__, n_embd=2**16, n_layer=64)  # a model of hundreds of GB
    path = rewrite(
        save(tmp_path / "a.npz"), tmp_path / "huge.npz", lambda a: set_meta(a, config=huge)
    )
    tracemalloc.start()
    with pytest.raises(ValueError, match="the saved config needs .* parameters but the file holds"):
        load_checkpoint(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_an_npz_without_description_another_format_or_version_is_refused(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    with pytest.raises(ValueError, match="is not a companion checkpoint: it has no '__meta__'"):
        load_checkpoint(plain)
    path = save(tmp_path / "a.npz")
    other = rewrite(path, tmp_path / "o.npz", lambda a: set_meta(a, format="something-else"))
    with pytest.raises(ValueError, match=re.escape(f"{other} is not a companion-checkpoint file")):
        load_checkpoint(other)
    older = rewrite(path, tmp_path / "v.npz", lambda a: set_meta(a, version=1))
    with pytest.raises(ValueError, match="of version 1; this companion reads version 2"):
        load_checkpoint(older)


def test_a_parameter_of_the_wrong_shape_missing_or_unexpected_is_named(tmp_path):
    path = save(tmp_path / "a.npz")
    swapped = rewrite(  # the same number of floats, another shape
        path, tmp_path / "s.npz", lambda a: a.__setitem__("wte.W", a["wte.W"].T.copy())
    )
    with pytest.raises(
        ValueError,
        match=rf"parameter 'wte.W' must be a float array of shape \({CONFIG.vocab_size}, 8\)",
    ):
        load_checkpoint(swapped)
    renamed = rewrite(
        path, tmp_path / "r.npz", lambda a: a.__setitem__("head.W", a.pop("ln_f.gamma"))
    )
    with pytest.raises(
        ValueError, match=re.escape("missing ['ln_f.gamma'], not in the model ['head.W']")
    ):
        load_checkpoint(renamed)


def test_non_finite_parameters_and_an_invalid_config_are_refused(tmp_path):
    path = save(tmp_path / "a.npz")
    nan = rewrite(path, tmp_path / "nan.npz", lambda a: a["ln_f.gamma"].__setitem__(0, np.nan))
    with pytest.raises(ValueError, match=re.escape("'ln_f.gamma' holds NaN or infinite")):
        load_checkpoint(nan)
    broken = rewrite(
        path, tmp_path / "c.npz", lambda a: set_meta(a, config=dict(CONFIG.__dict__, n_head=3))
    )
    with pytest.raises(ValueError, match="the saved config is not a valid one: n_embd must be"):
        load_checkpoint(broken)


def test_a_tokenizer_of_another_size_than_the_model_is_refused_when_saving(tmp_path):
    model, _ = trained()
    with pytest.raises(ValueError, match="tokenizer must have the model's vocabulary size"):
        save_checkpoint(tmp_path / "a.npz", model, tokenizer=CharTokenizer("ab"), step=0)
    with pytest.raises(ValueError, match=re.escape("path must end in .npz")):
        save_checkpoint(tmp_path / "a.ckpt", model, tokenizer=TOKENIZER, step=0)
