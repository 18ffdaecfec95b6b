"""Chapter 16, The Transformer architecture: the chapter's cross-attention, batch and greedy
loop equal the companion's, the answers for the exercise checkers (judged in test_exercises.py),
and the numbers the prose states hold (the parameter count, the training history, the
accuracy by length, what the cross-attention heads look at), re-derived independently."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")  # the chapter's figures, drawn without a screen

import nbformat
import numpy as np
import pytest
from conftest import BOOK, ROOT, chapter_function, run_chapter

from companion import (
    CrossAttention,
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    attention,
    check,
    load_checkpoint,
    merge_heads,
    split_heads,
)
from companion.aids.exercises.chapter16 import (
    ALPHABET_16_5,
    ATTENTIONS_16_3,
    BATCH_16_2,
    CONFIG_16_4,
    LOGITS_16_5,
    N_HEAD_16_2,
    NUMBER_16_1,
    SRC_LEN_16_2,
    TGT_LEN_16_2,
)
from companion.data.number_words import NumberWords, number_to_words

CH16 = "16_transformer_architecture.ipynb"
CHECKPOINT = ROOT / "checkpoints" / "transformer_number_words.npz"
HISTORY = ROOT / "checkpoints" / "transformer_number_words.history.jsonl"
RNG = np.random.default_rng(16)
TASK = NumberWords()


@pytest.fixture(scope="module")
def trained():
    model, _, info = load_checkpoint(CHECKPOINT)
    return model, info


@pytest.fixture(scope="module")
def chapter():
    """The chapter's code cells, run as Jupyter runs them: their namespace and glued values."""
    return run_chapter(CH16, skip="perf_counter")  # timing is for the page, not for the tests


def _padded_by_hand(n):
    """The source ids of n, padded on the right to six characters (a second implementation)."""
    digits = [int(d) for d in str(n)]  # the source alphabet is "0123456789_"
    return digits + [10] * (6 - len(digits))


# -- (a) the chapter's few lines equal the companion -------------------------------------------
def test_cross_attention_by_hand_equals_cross_attention():
    by_hand = chapter_function(
        CH16,
        "cross_attention_by_hand",
        split_heads=split_heads,
        merge_heads=merge_heads,
        attention=attention,
    )
    for _ in range(200):
        n_head, hs = int(RNG.integers(1, 5)), int(RNG.integers(1, 6))
        B, T, S, C = (
            int(RNG.integers(1, 4)),
            int(RNG.integers(1, 8)),
            int(RNG.integers(1, 8)),
            n_head * hs,
        )
        x, memory = RNG.normal(size=(B, T, C)), RNG.normal(size=(B, S, C))
        W_q, W_kv, W_o = (
            RNG.normal(size=(C, C)),
            RNG.normal(size=(C, 2 * C)),
            RNG.normal(size=(C, C)),
        )
        cross = CrossAttention(C, n_head, bias=False, rng=0, dtype=np.float64)
        cross.c_q.params["W"][...], cross.c_kv.params["W"][...] = W_q, W_kv
        cross.c_proj.params["W"][...] = W_o
        out, u = by_hand(x, memory, W_q, W_kv, W_o, n_head)
        np.testing.assert_allclose(out, cross(x, memory), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(u, cross.u, rtol=1e-10, atol=1e-14)
        assert u.shape == (B, n_head, T, S)
        np.testing.assert_allclose(u.sum(axis=-1), 1)


def test_with_memory_x_it_is_unmasked_multi_head_attention():
    by_hand = chapter_function(
        CH16,
        "cross_attention_by_hand",
        split_heads=split_heads,
        merge_heads=merge_heads,
        attention=attention,
    )
    for _ in range(50):
        n_head, hs = int(RNG.integers(1, 4)), int(RNG.integers(1, 5))
        C, T = n_head * hs, int(RNG.integers(1, 7))
        x = RNG.normal(size=(2, T, C))
        W_q, W_kv, W_o = (
            RNG.normal(size=(C, C)),
            RNG.normal(size=(C, 2 * C)),
            RNG.normal(size=(C, C)),
        )
        mha = MultiHeadAttention(C, n_head, causal=False, bias=False, rng=0, dtype=np.float64)
        mha.c_attn.params["W"][...] = np.hstack([W_q, W_kv])  # queries, then keys and values
        mha.c_proj.params["W"][...] = W_o
        np.testing.assert_allclose(by_hand(x, x, W_q, W_kv, W_o, n_head)[0], mha(x), atol=1e-12)


def test_batch_by_hand_equals_the_tasks_batch():
    by_hand = chapter_function(CH16, "batch_by_hand", task=TASK, number_to_words=number_to_words)
    numbers = [0, 7, 17, 70, 100, 4127, 900017, 999_999, *RNG.integers(0, 1_000_000, size=200)]
    for n in numbers:
        src, tgt_in, tgt_out = TASK.batch([int(n)])
        mine = by_hand(int(n))
        assert [src[0].tolist(), tgt_in[0].tolist(), tgt_out[0].tolist()] == list(mine)


def test_the_tasks_sources_pad_every_source_to_six_on_the_right():
    for size in (1, 2, 5):
        numbers = RNG.integers(0, 10 ** int(RNG.integers(1, 7)), size=size)
        assert TASK.sources(numbers).tolist() == [_padded_by_hand(int(n)) for n in numbers]


def test_greedy_by_hand_equals_greedy_decode_on_random_models():
    by_hand = chapter_function(CH16, "greedy_by_hand")
    for seed in range(6):
        config = TransformerConfig(7, 9, 5, 8, n_layer=1, n_head=2, n_embd=8)
        model = Transformer(config, rng=seed, dtype=np.float64)
        for table in (model.src_wte, model.src_wpe, model.tgt_wte, model.tgt_wpe):
            table.params["W"] *= 50  # spread-1 tables: outputs that vary, EOS sometimes
        src = np.random.default_rng(seed).integers(0, 7, size=(4, 5))
        bos, eos = 0, int(seed % 8) + 1
        for max_len in (1, 3, 8):
            expected = model.greedy_decode(src, bos, eos, max_len)
            assert [by_hand(model, row, bos, eos, max_len) for row in src] == expected


def test_greedy_by_hand_equals_greedy_decode_on_the_trained_model(trained):
    model, info = trained
    by_hand = chapter_function(CH16, "greedy_by_hand")
    _, held_out = TASK.split(info["extra"]["task"]["n_test"], info["extra"]["options"]["seed"])
    src = np.array([_padded_by_hand(int(n)) for n in held_out[10:14]])
    written = model.greedy_decode(src, TASK.bos, TASK.eos, TASK.tgt_block_size)
    for row, ids, n in zip(src, written, held_out[10:14], strict=True):
        assert by_hand(model, row, TASK.bos, TASK.eos, TASK.tgt_block_size) == ids
        assert TASK.target.decode(ids) == number_to_words(int(n))


# -- (c) what the prose claims --------------------------------------------------------------------
def test_the_parameters_by_hand(chapter):
    namespace, glued = chapter
    # C = 64. Tables: (11 digits + 6 source positions + 24 characters + 65 positions) x 64 =
    # 106 x 64 = 6,784. Encoder block 12 x 4,096 + 13 x 64 = 49,984; decoder block
    # 16 x 4,096 + 19 x 64 = 66,752; two of each: 233,472. Final norms 4 x 64 = 256, head
    # 64 x 24 = 1,536. Total 6,784 + 233,472 + 256 + 1,536 = 242,048.
    assert glued["n_params"] == 242_048 == namespace["model"].n_parameters
    model = namespace["model"]
    assert sum(b.n_parameters for b in model.encoder) == 2 * 49_984
    assert sum(b.n_parameters for b in model.decoder) == 2 * 66_752
    assert sum(b.cross_attn.n_parameters for b in model.decoder) == 2 * (4 * 4096 + 4 * 64)
    assert model.src_wte.n_parameters + model.src_wpe.n_parameters == 17 * 64
    assert model.tgt_wte.n_parameters + model.tgt_wpe.n_parameters == 89 * 64


def test_the_training_history(chapter):
    _, glued = chapter
    history = [json.loads(line) for line in HISTORY.read_text().splitlines()]
    assert glued["loss_start"] == history[0]["val_loss"] and glued["loss_start"] > 3.5
    assert glued["loss_end"] == history[-1]["val_loss"] < 1e-4
    assert glued["first_full"] == 1250  # the README's table: 100.0 % from step 1,250
    assert glued["acc_250"] == pytest.approx(91.4)
    assert (glued["n_steps"], glued["batch_size"]) == (1500, 64)
    # "no sign of overfitting": the held-out loss never exceeds twice the training loss
    assert all(h["val_loss"] < 2 * h["train_loss"] for h in history)


def test_every_held_out_number_is_right_and_they_are_long(chapter):
    namespace, glued = chapter
    assert namespace["accuracy"] == 1.0
    _, held_out = TASK.split(1000, 1337)
    lengths = [len(str(int(n))) for n in held_out]
    assert (glued["held_6"], glued["held_5"], glued["held_4"]) == tuple(
        lengths.count(d) for d in (6, 5, 4)
    )
    assert min(lengths) == 4 and glued["held_6"] + glued["held_5"] + glued["held_4"] == 1000
    # 1,500 x 64 = 96,000 draws; 1,000 of the 1,000,000 numbers have three digits or fewer.
    assert glued["n_draws"] == 96_000 and glued["short_draws"] == 96


def test_short_numbers_by_a_second_implementation(chapter, trained):
    _, glued = chapter
    model, _ = trained
    for n_digits, numbers in ((1, range(10)), (2, range(10, 100))):
        right = 0
        for n in numbers:  # one number at a time, padded by hand
            ids = model.greedy_decode([_padded_by_hand(n)], TASK.bos, TASK.eos, 65)[0]
            right += TASK.target.decode(ids) == number_to_words(n)
        assert glued[f"right_{n_digits}"] == pytest.approx(100 * right / len(numbers))
        assert right / len(numbers) < 0.8  # "only ... of the time"


def test_an_unpadded_five_digit_number_goes_wrong(trained):
    model, _ = trained
    _, held_out = TASK.split(1000, 1337)
    n = int(held_out[2])
    assert len(str(n)) == 5
    alone = model.greedy_decode([[int(d) for d in str(n)]], TASK.bos, TASK.eos, 65)[0]
    padded = model.greedy_decode([_padded_by_hand(n)], TASK.bos, TASK.eos, 65)[0]
    assert TASK.target.decode(alone) != number_to_words(n) == TASK.target.decode(padded)


def test_the_caches_hold_what_the_prose_says(chapter):
    namespace, _ = chapter
    caches = namespace["caches"]
    assert len(caches) == 2
    for cache in caches:  # 13 characters written ("^nine hundred"); 6 source positions
        assert cache["self"]["k"].shape == cache["self"]["v"].shape == (1, 4, 13, 16)
        assert cache["cross"]["k"].shape == cache["cross"]["v"].shape == (1, 4, 6, 16)


def _word_weights(model, number, block):
    """Mean weights per head of each word's characters (and the space or hyphen after it)."""
    words = number_to_words(number)
    src = np.array([_padded_by_hand(number)])
    model(src, np.array([[TASK.bos, *TASK.target.encode(words)]]))
    u = model.decoder[block].cross_attn.u[0]  # [n_head, T, S]
    return {
        m.group(1): u[:, m.start() : m.end()].mean(axis=1) for m in re.finditer(r"(\w+)\W?", words)
    }


def test_the_heat_map_as_the_prose_describes_it(chapter, trained):
    _, glued = chapter
    model, _ = trained
    weights = _word_weights(model, 913087, block=0)  # digits 9 1 3 0 8 7 at positions 0..5
    assert (weights["nine"].argmax(axis=1) == 1).all()  # the 1, in all four heads
    assert glued["nine_on_1"] == pytest.approx(weights["nine"][:, 1].min(), rel=1e-5)
    assert [weights["thirteen"][h].argmax() for h in range(4)] == [2, 2, 0, 2]
    assert glued["thirteen_on_3"] == pytest.approx(
        weights["thirteen"][[0, 1, 3], 2].min(), rel=1e-5
    )
    assert (weights["seven"].argmax(axis=1) == 5).all()
    assert sum(weights["eighty"][h].argmax() == 4 for h in range(4)) == 3  # "most"


def _on_thousands_vectorized(u, numbers):
    """The chapter's measure with masks instead of loops: [3 kinds, n_head] per block."""
    N, _, T, S = u.shape
    kind = np.full((N, T), -1)  # 0 before "thousand", 1 "thousand", 2 after; -1 padding
    thousands = np.zeros((N, S), dtype=bool)
    for i, n in enumerate(numbers):
        words = number_to_words(int(n)) + "$"
        k = words.index("thousand")
        kind[i, : len(words)] = 2
        kind[i, : k + 8] = 1
        kind[i, :k] = 0
        thousands[i, : len(str(int(n))) - 3] = True
    on = (u * thousands[:, None, None, :]).sum(axis=-1)  # [N, n_head, T]
    return np.stack([on.transpose(0, 2, 1)[kind == j].mean(axis=0) for j in range(3)])


def test_what_the_heads_look_at_by_a_second_implementation(chapter):
    namespace, glued = chapter
    model, numbers = namespace["model"], namespace["numbers"]
    src, tgt_in, _ = TASK.batch(numbers)
    model(src, tgt_in)
    for b, block in enumerate(model.decoder):
        table = _on_thousands_vectorized(block.cross_attn.u, numbers)
        for j, kind in enumerate(("before", "thousand", "after")):
            assert glued[f"b{b}_{kind}_min"] == pytest.approx(table[j].min(), rel=1e-5)
            assert glued[f"b{b}_{kind}_max"] == pytest.approx(table[j].max(), rel=1e-5)
    assert glued["b0_before_min"] > 0.8 > 0.1 > glued["b0_after_max"]
    assert glued["b0_thousand_max"] < 0.5  # "mostly at the last three digits"
    assert glued["b1_after_max"] > glued["b0_after_max"]  # "less sharply"
    assert glued["pad_weight"] < 0.02


def test_the_exercises_state_the_constants_of_the_checkers():
    nb = nbformat.read(BOOK / CH16, as_version=4)
    text = " ".join(" ".join(c.source for c in nb.cells if "{exercise}" in c.source).split())
    assert f"The number {NUMBER_16_1} (`NUMBER_16_1`)" in text
    assert f"A batch of {BATCH_16_2} numbers (`BATCH_16_2`)" in text
    assert f"padded to {SRC_LEN_16_2} digits" in text and f"{TGT_LEN_16_2} positions" in text
    assert f"{N_HEAD_16_2} heads (`N_HEAD_16_2`)" in text
    names = ", ".join(f'"{a}"' for a in ATTENTIONS_16_3)
    assert f"`ATTENTIONS_16_3` = ({names})" in text
    c = CONFIG_16_4
    assert f"({c.src_vocab_size} and {c.tgt_vocab_size} symbols)" in text
    assert f"block sizes ({c.src_block_size} and {c.tgt_block_size})" in text
    assert f"{c.n_head} heads, C = {c.n_embd}" in text and c.n_layer == 1 and c.bias
    alphabet = ", ".join(f'"{a}"' for a in ALPHABET_16_5)
    assert f"`ALPHABET_16_5` = ({alphabet})" in text
    for row in LOGITS_16_5:
        assert "[" + ", ".join(f"{v:.1f}".replace("-", "−") for v in row) + "]" in text


# -- (b) the exercises ---------------------------------------------------------------------------
C16 = CONFIG_16_4.n_embd
# Tables (11 + 6 + 24 + 65) x 16 = 1,696; encoder block 12 x 256 + 13 x 16 = 3,280; decoder
# block 16 x 256 + 19 x 16 = 4,400; final norms 4 x 16 = 64; head 16 x 24 = 384: 9,824.
PARAMS_16_4 = 9_824
FORTY_MISSPELT = "forty".replace("or", "our")  # the common misspelling, without writing it

RIGHT = {
    "16.1": ("^forty", "forty$"),
    "16.2": (3, 4, 40, 6),  # [B, n_head, T, S]
    "16.3": ["decoder self-attention"],
    "16.4": PARAMS_16_4,
    "16.5": "y",  # the last row's largest score, 3.6, is column 3: "y"
}

WRONG_WITH_HINT = [
    ("16.1", ("forty$", "^forty"), "Swapped"),
    ("16.1", ("^forty", "^forty"), "shifted one to the left"),
    ("16.1", ("^" + FORTY_MISSPELT, FORTY_MISSPELT + "$"), "no u"),
    ("16.1", ("^four zero", "four zero$"), "number_to_words(40)"),
    ("16.1", ("forty", "forty$"), "followed by the words"),
    ("16.1", ("^forty$", "forty$"), "and no EOS"),
    ("16.1", ("^forty", "forty"), "followed by EOS"),
    ("16.1", ("^forty", "^forty$"), "with no BOS"),
    ("16.1", "^forty", "Expected a pair"),
    ("16.1", ("^forty",), "Expected a pair"),
    ("16.1", (1.5, 2.5), "must be a text"),
    ("16.2", (3, 4, 6, 40), "Rows and columns swapped"),
    ("16.2", (3, 4, 40, 40), "decoder's self-attention"),
    ("16.2", (3, 4, 6, 6), "encoder's self-attention"),
    ("16.2", (3, 40, 6), "Four axes"),
    ("16.2", (4, 3, 40, 6), "batch axis comes first"),
    ("16.2", (3, 40, 4, 6), "heads' axis comes second"),
    ("16.2", (3, 4, 40, 16), "Four axes"),
    ("16.2", (3, 4, 40.5, 6), "whole numbers"),
    ("16.2", np.zeros((3, 4, 40, 6)), "its shape"),
    ("16.3", ["encoder self-attention", "decoder self-attention"], "known in full"),
    ("16.3", ["decoder self-attention", "cross-attention"], "complete before"),
    ("16.3", ATTENTIONS_16_3, "known in full"),
    ("16.3", [], "One of them"),
    ("16.3", ["masked attention"], "is not one of the names"),
    ("16.3", [1, 2], "Expected names"),
    ("16.4", PARAMS_16_4 - (4 * C16 * C16 + 4 * C16), "cross-attention"),
    ("16.4", PARAMS_16_4 - 2 * C16, "three layer norms"),
    ("16.4", PARAMS_16_4 - 24 * C16, "Add the head"),
    ("16.4", PARAMS_16_4 - 4 * C16, "two final layer norms"),
    ("16.4", PARAMS_16_4 - (6 + 65) * C16, "position tables"),
    ("16.4", PARAMS_16_4 + 3_280 + 4_400, "n_layer = 1"),
    # Without biases: encoder 11C, decoder 16C, final norms 2C fewer: 9,824 - 29 x 16 = 9,360.
    ("16.4", 9_360, "biases"),
    ("16.4", 100, "Add the four tables"),
    ("16.4", 9_824.5, "whole number"),
    ("16.5", "t", "first row"),
    ("16.5", "n", "smallest"),
    ("16.5", "e", "largest score"),
    ("16.5", 3, "which character"),
    ("16.5", 1, "character itself"),
    ("16.5", "z", "Expected one of"),
    ("16.5", ["y"], "Expected one character"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [
    np.zeros((2, 2), dtype=int),
    [1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
    b"\xff",
    slice(None, None),
    True,
]


def test_right_answers_match_the_companion(trained):
    model, _ = trained
    _, tgt_in, tgt_out = TASK.batch([NUMBER_16_1])
    assert (TASK.target.decode(tgt_in[0]), TASK.target.decode(tgt_out[0])) == RIGHT["16.1"]
    model(
        np.zeros((BATCH_16_2, SRC_LEN_16_2), dtype=int),
        np.zeros((BATCH_16_2, TGT_LEN_16_2), dtype=int),
    )
    assert model.decoder[0].cross_attn.u.shape == RIGHT["16.2"]
    assert model.decoder[0].attn.causal and not model.encoder[0].attn.causal
    assert CONFIG_16_4.n_parameters() == Transformer(CONFIG_16_4, rng=0).n_parameters == PARAMS_16_4
    assert ALPHABET_16_5[int(np.argmax(LOGITS_16_5[-1]))] == RIGHT["16.5"]


def test_other_spellings_of_right_answers_pass():
    ids_in, ids_out = TASK.target.encode("^forty"), TASK.target.encode("forty$")
    assert check("16.1", ["^forty", "forty$"]) and check("16.1", (ids_in, ids_out))
    assert check("16.1", (np.array(ids_in), np.array(ids_out)))
    assert check("16.2", [3, 4, 40, 6]) and check("16.2", np.array([3, 4, 40, 6]))
    assert check("16.2", np.zeros((3, 4, 40, 6)).shape)
    assert check("16.3", "decoder self-attention") and check("16.3", {"Decoder self-attention "})
    assert check("16.3", ("decoder self-attention",))
    assert check("16.4", np.int64(PARAMS_16_4)) and check("16.4", float(PARAMS_16_4))
    assert check("16.5", ALPHABET_16_5[3])
