"""Checkpoints (chapter 15): round trips, atomic writes, and every file that must be refused."""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from companion.bpe import BPETokenizer
from companion.char_tokenizer import CharTokenizer
from companion.checkpoint import (
    FORMAT,
    META_KEY,
    load_checkpoint,
    restore_optimizers,
    save_checkpoint,
)
from companion.gpt import GPT, GPTConfig
from companion.optim import AdamW

TEXT = "to be or not to be, that is the question"
TOKENIZER = CharTokenizer.from_text(TEXT)
CONFIG = GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=8, n_layer=2, n_head=2, n_embd=8)


def trained(seed: int = 0) -> tuple[GPT, list[AdamW]]:
    """A tiny model after two AdamW steps, so m, v and t are not their initial values."""
    model = GPT(CONFIG, rng=seed)
    optimizer = AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    ids = np.array([TOKENIZER.encode(TEXT[:9])])  # [1, 9]
    for _ in range(2):
        model.zero_grad()
        model.loss(ids[:, :-1], ids[:, 1:])
        model.backward()
        optimizer.step(model.gradients())
    return model, [optimizer]


def save(path: Path, **changes: object) -> Path:
    model, optimizers = trained()
    kwargs: dict = {"tokenizer": TOKENIZER, "step": 2, "optimizers": optimizers}
    kwargs |= {"extra": {"val_loss": 1.5}} | changes
    return save_checkpoint(path, model, **kwargs)


def rewrite(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """Copy a checkpoint's arrays, let ``change`` edit the dict, and write it with np.savez."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    np.savez(target, **arrays)
    return target


def set_meta(arrays: dict, **fields: object) -> None:
    meta = json.loads(arrays[META_KEY].tobytes().decode("utf-8")) | fields
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_restores_parameters_tokenizer_step_extra_and_optimizer(tmp_path):
    model, optimizers = trained()
    path = save_checkpoint(
        tmp_path / "a.npz",
        model,
        tokenizer=TOKENIZER,
        step=2,
        optimizers=optimizers,
        extra={"val_loss": 1.5, "note": "é"},
    )
    loaded, tokenizer, info = load_checkpoint(path)
    assert set(loaded.parameters()) == set(model.parameters())
    for name, p in model.parameters().items():
        assert np.array_equal(loaded.parameters()[name], p), name
        assert loaded.parameters()[name].dtype == np.float32
    assert isinstance(tokenizer, CharTokenizer) and tokenizer.alphabet == TOKENIZER.alphabet
    assert info["step"] == 2 and info["extra"] == {"val_loss": 1.5, "note": "é"}
    assert info["config"]["n_embd"] == 8 and info["config"]["bias"] is True
    fresh = AdamW(loaded.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    restore_optimizers([fresh], info["optimizers"])
    assert fresh.t == 2
    for name in model.parameters():
        assert np.array_equal(fresh.m[name], optimizers[0].m[name])
        assert np.array_equal(fresh.v[name], optimizers[0].v[name])
    ids = np.array([TOKENIZER.encode("to be")])
    assert np.array_equal(loaded.forward(ids), model.forward(ids))


def test_the_file_holds_named_arrays_and_a_uint8_json_and_no_object_arrays(tmp_path):
    path = save(tmp_path / "a.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert "wte.W" in archive.files and "blocks.1.attn.W_o" in archive.files
        assert archive["wte.W"].shape == (TOKENIZER.vocab_size, 8)
        assert all(archive[key].dtype != object for key in archive.files)
        meta = json.loads(archive[META_KEY].tobytes().decode("utf-8"))
        assert archive[META_KEY].dtype == np.uint8
    assert meta["format"] == FORMAT and meta["version"] == 1 and meta["model"] == "gpt"
    assert meta["tokenizer"]["kind"] == "char"
    assert meta["tokenizer"]["json"]["chars"] == list(TOKENIZER.alphabet)


def test_a_bpe_tokenizer_and_float64_round_trip(tmp_path):
    bpe = BPETokenizer()
    bpe.train(TEXT * 3, 260)
    config = GPTConfig(vocab_size=bpe.vocab_size, block_size=4, n_layer=1, n_head=1, n_embd=4)
    model = GPT(config, rng=3, dtype=np.float64)
    save_checkpoint(tmp_path / "b.npz", model, tokenizer=bpe, step=0)
    loaded, tokenizer, info = load_checkpoint(tmp_path / "b.npz")
    assert isinstance(tokenizer, BPETokenizer) and tokenizer.merges == bpe.merges
    assert loaded.dtype == np.float64 and info["optimizers"] == []
    assert np.array_equal(loaded.parameters()["wte.W"], model.parameters()["wte.W"])
    as32, _, _ = load_checkpoint(tmp_path / "b.npz", dtype=np.float32)
    assert as32.parameters()["wte.W"].dtype == np.float32


# -- atomic writing ------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_checkpoint_and_leaves_no_temporary_file(
    tmp_path, monkeypatch
):
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
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]
    assert load_checkpoint(path)[2]["step"] == 1


def test_saving_again_replaces_the_file(tmp_path):
    save(tmp_path / "a.npz", step=1)
    save(tmp_path / "a.npz", step=7)
    assert load_checkpoint(tmp_path / "a.npz")[2]["step"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


# -- files that are refused ----------------------------------------------------------------


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"no checkpoint file at {tmp_path}")):
        load_checkpoint(tmp_path / "nothing.npz")


def test_a_truncated_file_is_refused(tmp_path):
    path = save(tmp_path / "a.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=re.escape(f"{cut} is not a readable .npz checkpoint")):
        load_checkpoint(cut)


def test_a_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not an archive")
    with pytest.raises(ValueError, match=re.escape(f"{path} is not")):
        load_checkpoint(path)


def test_an_npy_file_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=re.escape(f"{path} is not a checkpoint: it is a single")):
        load_checkpoint(path)


def test_an_npz_without_metadata_is_refused(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.zeros(3))
    message = f"{path} is not a companion checkpoint: it has no '__meta__' entry"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_checkpoint(path)


def test_pickled_objects_are_refused(tmp_path):
    as_npy = tmp_path / "objects.npy"
    np.save(as_npy, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps({"wte.W": np.zeros(3)}))
    in_npz = rewrite(
        save(tmp_path / "a.npz"),
        tmp_path / "objects.npz",
        lambda arrays: arrays.__setitem__("extra", np.array([print], dtype=object)),
    )
    for path in (as_npy, raw, in_npz):
        with pytest.raises(ValueError, match=re.escape(f"{path} holds pickled Python objects")):
            load_checkpoint(path)


def test_another_format_or_version_is_refused(tmp_path):
    path = save(tmp_path / "a.npz")
    other = rewrite(path, tmp_path / "o.npz", lambda a: set_meta(a, format="something-else"))
    with pytest.raises(ValueError, match=re.escape(f"{other} is not a {FORMAT} file")):
        load_checkpoint(other)
    newer = rewrite(path, tmp_path / "n.npz", lambda a: set_meta(a, version=2))
    with pytest.raises(ValueError, match=re.escape("of version 2; this companion reads version 1")):
        load_checkpoint(newer)
    kind = rewrite(path, tmp_path / "k.npz", lambda a: set_meta(a, model="transformer"))
    with pytest.raises(ValueError, match=re.escape("kind 'transformer'; expected 'gpt'")):
        load_checkpoint(kind)


def test_a_parameter_of_the_wrong_shape_is_named(tmp_path):
    path = save(tmp_path / "a.npz")
    bad = rewrite(
        path, tmp_path / "bad.npz", lambda a: a.__setitem__("blocks.1.fc.W", np.zeros((8, 3)))
    )
    message = (
        f"{bad}: parameter 'blocks.1.fc.W' must have shape (8, 32) for the saved config; got (8, 3)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_checkpoint(bad)


def test_a_missing_or_unexpected_parameter_is_named(tmp_path):
    path = save(tmp_path / "a.npz")
    missing = rewrite(path, tmp_path / "m.npz", lambda a: a.pop("ln_f.gamma"))
    with pytest.raises(ValueError, match=re.escape("missing ['ln_f.gamma'], not in the model []")):
        load_checkpoint(missing)
    extra = rewrite(path, tmp_path / "e.npz", lambda a: a.__setitem__("head.W", np.zeros(2)))
    with pytest.raises(ValueError, match=re.escape("missing [], not in the model ['head.W']")):
        load_checkpoint(extra)


def test_a_config_that_does_not_match_the_arrays_is_refused(tmp_path):
    V = TOKENIZER.vocab_size
    path = save(tmp_path / "a.npz")
    wider = rewrite(
        path, tmp_path / "w.npz", lambda a: set_meta(a, config=dict(CONFIG.__dict__, n_embd=16))
    )
    with pytest.raises(
        ValueError,
        match=re.escape(f"'wte.W' must have shape ({V}, 16) for the saved config; got ({V}, 8)"),
    ):
        load_checkpoint(wider)
    broken = rewrite(
        path, tmp_path / "c.npz", lambda a: set_meta(a, config=dict(CONFIG.__dict__, n_head=3))
    )
    with pytest.raises(ValueError, match=re.escape("the saved config is not a valid GPTConfig")):
        load_checkpoint(broken)


def test_non_finite_parameters_are_refused(tmp_path):
    path = save(tmp_path / "a.npz")
    nan = rewrite(path, tmp_path / "nan.npz", lambda a: a["ln_f.beta"].__setitem__(0, np.nan))
    with pytest.raises(ValueError, match=re.escape("'ln_f.beta' holds NaN or infinite")):
        load_checkpoint(nan)


# -- bad arguments -------------------------------------------------------------------------


def test_bad_arguments_to_save_are_refused(tmp_path):
    model, optimizers = trained()
    ok = {"tokenizer": TOKENIZER, "step": 0}
    with pytest.raises(ValueError, match=re.escape("path must end in .npz; got")):
        save_checkpoint(tmp_path / "a.ckpt", model, **ok)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("path must be a str or a path; got int 3")):
        save_checkpoint(3, model, **ok)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("model must be a GPT or a Transformer; got")):
        save_checkpoint(tmp_path / "a.npz", "model", **ok)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("tokenizer must be a CharTokenizer or a BPE")):
        save_checkpoint(tmp_path / "a.npz", model, tokenizer="abc", step=0)  # type: ignore[arg-type]
    small = CharTokenizer("abc")
    with pytest.raises(ValueError, match=re.escape("tokenizer must have the model's vocab_size")):
        save_checkpoint(tmp_path / "a.npz", model, tokenizer=small, step=0)
    with pytest.raises(ValueError, match=re.escape("step must be an int >= 0; got int -1")):
        save_checkpoint(tmp_path / "a.npz", model, tokenizer=TOKENIZER, step=-1)
    with pytest.raises(ValueError, match=re.escape("extra must hold only what JSON can store")):
        save_checkpoint(tmp_path / "a.npz", model, **ok, extra={"x": np.zeros(2)})
    other = AdamW(GPT(CONFIG, rng=1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match=re.escape("must hold the model's own parameters")):
        save_checkpoint(tmp_path / "a.npz", model, **ok, optimizers=[other])
    with pytest.raises(ValueError, match=re.escape("must hold disjoint parameters")):
        save_checkpoint(tmp_path / "a.npz", model, **ok, optimizers=optimizers * 2)
    with pytest.raises(FileNotFoundError, match=re.escape("the folder of path does not exist")):
        save_checkpoint(tmp_path / "no" / "a.npz", model, **ok)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_restore_optimizers_refuses_a_different_grouping(tmp_path):
    _, _, info = load_checkpoint(save(tmp_path / "a.npz"))
    model = GPT(CONFIG, rng=0)
    with pytest.raises(ValueError, match=re.escape("as many as were saved (1); got 2")):
        restore_optimizers([AdamW(model.parameters(), 0.1)] * 2, info["optimizers"])
    part = AdamW({"wte.W": model.parameters()["wte.W"]}, 0.1)
    with pytest.raises(ValueError, match=re.escape("must hold the parameters saved with it")):
        restore_optimizers([part], info["optimizers"])


def test_the_archive_is_a_plain_zip_of_npy_files(tmp_path):
    path = save(tmp_path / "a.npz")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert all(name.endswith(".npy") for name in names) and f"{META_KEY}.npy" in names


def test_a_transformer_checkpoint_is_checked_like_a_gpt_one(tmp_path):
    from companion.checkpoint import load_transformer_checkpoint
    from companion.data.number_words import NumberWords
    from companion.transformer import Transformer, TransformerConfig

    task = NumberWords(2)
    config = TransformerConfig(11, 24, 2, task.tgt_block_size, n_layer=1, n_head=2, n_embd=8)
    model = Transformer(config, rng=0)
    path = save_checkpoint(tmp_path / "t.npz", model, tokenizer=(task.source, task.target), step=1)
    loaded, (source, target), info = load_transformer_checkpoint(path)
    for name, p in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], p)
    assert (source.alphabet, target.alphabet) == (task.source.alphabet, task.target.alphabet)
    assert info["config"]["tgt_block_size"] == task.tgt_block_size
    name = "decoder_blocks.0.cross_attention.W_k"
    assert name in model.parameters()
    wider = rewrite(path, tmp_path / "w.npz", lambda a: a.__setitem__(name, np.zeros((9, 8))))
    message = f"parameter {name!r} must have shape (8, 8) for the saved config; got (9, 8)"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_transformer_checkpoint(wider)
    missing = rewrite(path, tmp_path / "m.npz", lambda a: a.pop("head.W"))
    with pytest.raises(ValueError, match=re.escape("missing ['head.W']")):
        load_transformer_checkpoint(missing)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=re.escape("is not a readable .npz checkpoint")):
        load_transformer_checkpoint(cut)


def test_a_transformer_tokenizer_of_another_size_is_refused(tmp_path):
    import json as json_module

    from companion.checkpoint import load_transformer_checkpoint
    from companion.data.number_words import NumberWords
    from companion.transformer import Transformer, TransformerConfig

    task = NumberWords(2)
    config = TransformerConfig(11, 24, 2, task.tgt_block_size, n_layer=1, n_head=2, n_embd=8)
    path = save_checkpoint(
        tmp_path / "t.npz", Transformer(config, rng=0), tokenizer=(task.source, task.target), step=0
    )

    def widen_source(arrays: dict) -> None:
        meta = json_module.loads(arrays[META_KEY].tobytes().decode("utf-8"))
        meta["tokenizer"]["source"]["json"]["chars"].append("~")  # 12 characters
        arrays[META_KEY] = np.frombuffer(json_module.dumps(meta).encode(), dtype=np.uint8)

    wide = rewrite(path, tmp_path / "w.npz", widen_source)
    message = "the source tokenizer has 12 tokens but the model's src_vocab_size is 11"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_transformer_checkpoint(wide)
