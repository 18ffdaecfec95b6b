"""The encoder-decoder Transformer: gradients, masks, dtypes, decoding, a little training."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from companion.gradcheck import gradcheck
from companion.optim import AdamW
from companion.transformer import DecoderBlock, EncoderBlock, Transformer, TransformerConfig

TINY = TransformerConfig(7, 9, src_block_size=5, tgt_block_size=4, n_layer=1, n_head=2, n_embd=8)


def unit_tables(model: Transformer) -> Transformer:
    """Scale the std-0.02 embedding tables to about unit size, for honest nudging.

    With 0.02 tables the first LayerNorm divides by about 0.03 and the loss curves so
    sharply that central differences with h = 1e-5 are themselves off by ~1e-6 (see
    tests/test_module.py).
    """
    for table in (
        model.src_token_embedding,
        model.src_position_embedding,
        model.tgt_token_embedding,
        model.tgt_position_embedding,
    ):
        table.params["W"] *= 50.0
    return model


def tiny_batch(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 7, size=(2, 5))
    src[0, :3] = 4  # repeated ids: their embedding gradients must add up
    tgt_in = rng.integers(0, 9, size=(2, 4))
    tgt_out = rng.integers(0, 9, size=(2, 4))
    tgt_out[1, 3] = -1  # a padded position, left out of the loss
    return src, tgt_in, tgt_out


def test_every_parameter_of_the_whole_model_passes_the_gradient_check():
    model = unit_tables(Transformer(TINY, rng=0, dtype=np.float64))
    src, tgt_in, tgt_out = tiny_batch()

    def f() -> float:
        return model.loss(src, tgt_in, tgt_out, ignore_index=-1)

    f()
    model.zero_grad()
    model.backward()
    errors = {name: gradcheck(f, p, g) for name, p, g in model.named_parameters()}
    # 4 tables, encoder block (2 norms, attention 5, MLP 4), ln_encoder,
    # decoder block (3 norms, 2 attentions, MLP 4), ln_decoder, head
    assert len(errors) == 4 + (4 + 5 + 4) + 2 + (6 + 10 + 4) + 2 + 1
    assert max(errors.values()) <= 1e-6


def test_two_decoder_blocks_send_the_sum_of_their_memory_gradients_to_the_encoder():
    config = TransformerConfig(7, 9, 5, 4, n_layer=2, n_head=2, n_embd=8)
    model = unit_tables(Transformer(config, rng=2, dtype=np.float64))
    src, tgt_in, tgt_out = tiny_batch(seed=3)

    def f() -> float:
        return model.loss(src, tgt_in, tgt_out, ignore_index=-1)

    f()
    model.zero_grad()
    model.backward()
    params, grads = model.parameters(), model.gradients()
    source_side = [n for n in params if n.startswith(("src_", "ln_encoder", "encoder_blocks.0.ln"))]
    assert len(source_side) == 2 + 2 + 4
    assert max(gradcheck(f, params[n], grads[n]) for n in source_side) <= 1e-6


def test_the_gradient_of_a_second_backward_pass_is_refused_not_doubled():
    model = Transformer(TINY, rng=0, dtype=np.float64)
    src, tgt_in, tgt_out = tiny_batch()
    model.loss(src, tgt_in, tgt_out, ignore_index=-1)
    model.backward()
    with pytest.raises(RuntimeError, match=re.escape("needs a call to loss first")):
        model.backward()


def test_the_decoder_is_causal_and_every_source_token_reaches_every_output():
    model = Transformer(TINY, rng=4, dtype=np.float64)
    src, tgt_in, _ = tiny_batch()
    logits = model.forward(src, tgt_in)
    for t in range(4):
        changed = tgt_in.copy()
        changed[:, t] = (changed[:, t] + 1) % 9
        new = model.forward(src, changed)
        np.testing.assert_array_equal(new[:, :t], logits[:, :t])  # earlier: untouched
        assert np.all(np.abs(new[:, t:] - logits[:, t:]).max(axis=-1) > 1e-9)  # later: moved
    for s in range(5):
        changed = src.copy()
        changed[:, s] = (changed[:, s] + 1) % 7
        moved = np.abs(model.forward(changed, tgt_in) - logits).max(axis=-1)  # [B, T]
        assert np.all(moved > 1e-9)


def test_float32_stays_float32_and_float64_stays_float64():
    src, tgt_in, tgt_out = tiny_batch()
    for dtype in (np.float32, np.float64):
        model = Transformer(TINY, rng=0, dtype=dtype)
        assert model.forward(src, tgt_in).dtype == dtype
        model.loss(src, tgt_in, tgt_out, ignore_index=-1)
        model.backward()
        assert {p.dtype for p in model.parameters().values()} == {np.dtype(dtype)}
        assert {g.dtype for g in model.gradients().values()} == {np.dtype(dtype)}
        assert np.any(model.gradients()["src_token_embedding.W"] != 0)


def test_shorter_sequences_than_the_block_size_and_a_batch_give_the_same_rows():
    model = Transformer(TINY, rng=5)
    src, tgt_in, _ = tiny_batch()
    both = model.forward(src[:, :3], tgt_in[:, :2])
    assert both.shape == (2, 2, 9)
    np.testing.assert_allclose(model.forward(src[1:, :3], tgt_in[1:, :2])[0], both[1], atol=1e-6)


class Scripted(Transformer):
    """A Transformer whose next id after ``tgt`` is written in a script, row by row."""

    def __init__(self, script: list[list[int]]) -> None:
        super().__init__(TransformerConfig(3, 5, 3, 6, 1, 1, 4), rng=0)
        self.script = script
        self.calls = 0

    def decode(self, tgt_in_ids, memory):
        self.calls += 1
        t = np.shape(tgt_in_ids)[1]
        logits = np.zeros((len(self.script), t, 5), dtype=np.float32)
        for b, row in enumerate(self.script):
            logits[b, -1, row[min(t - 1, len(row) - 1)]] = 1.0
        return logits


def test_greedy_decode_stops_at_eos_and_respects_max_len():
    src = np.zeros((3, 2), dtype=int)
    model = Scripted([[2, 3, 1], [4, 1, 2], [2, 2, 2, 2]])  # eos_id is 1
    assert model.greedy_decode(src, bos_id=0, eos_id=1, max_len=6) == [
        [2, 3],
        [4],
        [2, 2, 2, 2, 2, 2],
    ]
    assert model.calls == 6
    model = Scripted([[2, 3, 1], [4, 1, 2], [2, 2, 2, 2]])
    assert model.greedy_decode(src, bos_id=0, eos_id=1, max_len=2) == [[2, 3], [4], [2, 2]]
    model = Scripted([[1], [4, 1]])
    assert model.greedy_decode(src[:2], bos_id=0, eos_id=1, max_len=6) == [[], [4]]
    assert model.calls == 2  # every row ended: no third step


def test_greedy_decode_of_a_real_model_is_the_argmax_of_forward():
    model = Transformer(TINY, rng=6)
    src = tiny_batch()[0]
    out = model.greedy_decode(src, bos_id=0, eos_id=8, max_len=3)
    for b, ids in enumerate(out):
        tgt = [0]
        for _ in range(3):
            next_id = int(model.forward(src[b : b + 1], np.array([tgt])).argmax(axis=-1)[0, -1])
            if next_id == 8:
                break
            tgt.append(next_id)
        assert ids == tgt[1:]


# -- a small task: reverse a string of 3 to 5 digits -------------------------------------------

PAD, BOS, EOS, IGNORE = 10, 11, 12, -1


def reversal_batch(
    rng: np.random.Generator, n: int, excluded: set[tuple[int, ...]] = frozenset()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """Sources padded with PAD; tgt_in = BOS + reversed; tgt_out = reversed + EOS."""
    src = np.full((n, 5), PAD)
    tgt_in = np.full((n, 6), PAD)
    tgt_out = np.full((n, 6), IGNORE)
    answers = []
    for i in range(n):
        digits = tuple(rng.integers(0, 10, size=rng.integers(3, 6)).tolist())
        while digits in excluded:
            digits = tuple(rng.integers(0, 10, size=rng.integers(3, 6)).tolist())
        L, reversed_ = len(digits), list(digits[::-1])
        src[i, :L] = digits
        tgt_in[i, : L + 1] = [BOS, *reversed_]
        tgt_out[i, : L + 1] = [*reversed_, EOS]
        answers.append(reversed_)
    return src, tgt_in, tgt_out, answers


def test_a_small_transformer_learns_to_reverse_digit_strings(capsys):
    rng = np.random.default_rng(0)
    test_src, _, _, test_answers = reversal_batch(np.random.default_rng(99), 200)
    held_out = {tuple(a[::-1]) for a in test_answers}
    config = TransformerConfig(11, 13, 5, 6, n_layer=2, n_head=4, n_embd=32)
    model = Transformer(config, rng=rng)
    optimizer = AdamW(model.parameters(), lr=0.005, weight_decay=0.0)
    start = time.perf_counter()
    losses = []
    for _ in range(200):
        src, tgt_in, tgt_out, _ = reversal_batch(rng, 32, held_out)
        losses.append(model.loss(src, tgt_in, tgt_out, ignore_index=IGNORE))
        model.zero_grad()
        model.backward()
        optimizer.step(model.gradients())
    seconds = time.perf_counter() - start
    out = model.greedy_decode(test_src, BOS, EOS, max_len=6)
    accuracy = np.mean([o == a for o, a in zip(out, test_answers, strict=True)])
    first, last = float(np.mean(losses[:5])), float(np.mean(losses[-20:]))
    with capsys.disabled():
        print(
            f"\nreversal: loss {first:.3f} -> {last:.3f}, held-out exact match "
            f"{accuracy:.1%}, {seconds:.1f} s"
        )
    assert first > 2.0  # about log 13 = 2.56 at the start
    assert last < first / 2
    assert accuracy > 0.5


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_embd": 30, "n_head": 4}, ValueError, "got n_embd=30 and n_head=4"),
        ({"n_layer": 0}, ValueError, "n_layer must be a positive int; got 0"),
        ({"src_vocab_size": 2.5}, TypeError, "src_vocab_size must be a positive int; got float"),
        ({"tgt_block_size": True}, TypeError, "tgt_block_size must be a positive int; got bool"),
    ],
)
def test_bad_configurations_are_refused(kwargs, error, message):
    sizes = {"src_vocab_size": 7, "tgt_vocab_size": 9, "src_block_size": 5, "tgt_block_size": 4}
    with pytest.raises(error, match=re.escape(message)):
        TransformerConfig(**(sizes | kwargs))


def test_bad_constructor_arguments_are_refused():
    with pytest.raises(TypeError, match=re.escape("config must be a TransformerConfig; got dict")):
        Transformer({"n_embd": 8}, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("dtype must be np.float32 or np.float64")):
        Transformer(TINY, rng=0, dtype=np.int32)
    with pytest.raises(TypeError, match=re.escape("rng must be a numpy Generator")):
        Transformer(TINY, rng=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("got n_embd=10 and n_head=4")):
        EncoderBlock(10, 4, rng=0)
    with pytest.raises(ValueError, match=re.escape("got n_embd=10 and n_head=3")):
        DecoderBlock(10, 3, rng=0)


MODEL = Transformer(TINY, rng=0)
SRC, TGT_IN, TGT_OUT = tiny_batch()


@pytest.mark.parametrize(
    ("src", "tgt_in", "error", "message"),
    [
        (SRC[0], TGT_IN, ValueError, "src_ids must have shape [batch, S]; got shape (5,)"),
        (SRC, TGT_IN[:, :, None], ValueError, "tgt_in_ids must have shape [batch, T]"),
        (
            np.zeros((2, 6), int),
            TGT_IN,
            ValueError,
            "src_ids must have at most src_block_size = 5 positions (axis 1); got 6",
        ),
        (
            SRC,
            np.zeros((2, 5), int),
            ValueError,
            "tgt_in_ids must have at most tgt_block_size = 4 positions (axis 1); got 5",
        ),
        (SRC + 7, TGT_IN, ValueError, "src_ids must be ids in [0, 7); got"),
        (SRC, TGT_IN + 9, ValueError, "tgt_in_ids must be ids in [0, 9); got"),
        (SRC, TGT_IN[:1], ValueError, "tgt_in_ids must have the batch size of src_ids, 2; got 1"),
        (SRC * 1.0, TGT_IN, TypeError, "src_ids must hold integer ids"),
        ("abc", TGT_IN, TypeError, "src_ids must be integer ids, not text"),
    ],
)
def test_bad_ids_are_refused(src, tgt_in, error, message):
    with pytest.raises(error, match=re.escape(message)):
        MODEL.forward(src, tgt_in)


def test_bad_loss_targets_and_backward_before_loss_are_refused():
    with pytest.raises(RuntimeError, match=re.escape("needs a call to loss first")):
        Transformer(TINY, rng=0).backward()
    with pytest.raises(
        ValueError,
        match=re.escape(
            "tgt_out_ids must have shape [2, 4] (the shape of tgt_in_ids); got shape (2, 3)"
        ),
    ):
        MODEL.loss(SRC, TGT_IN, TGT_OUT[:, :3], ignore_index=-1)
    with pytest.raises(ValueError, match=re.escape("tgt_out_ids must be ids in [0, 9); got -1")):
        MODEL.loss(SRC, TGT_IN, TGT_OUT)  # -1 without ignore_index
    with pytest.raises(TypeError, match=re.escape("ignore_index must be an int or None")):
        MODEL.loss(SRC, TGT_IN, TGT_OUT, ignore_index="pad")  # type: ignore[arg-type]


def test_bad_memory_and_block_inputs_are_refused():
    memory = np.zeros((2, 5, 8), dtype=np.float32)
    with pytest.raises(ValueError, match=re.escape("memory must have shape [batch, T, 8]")):
        MODEL.decode(TGT_IN, memory[:, :, :4])
    with pytest.raises(
        ValueError, match=re.escape("tgt_in_ids must have the batch size of memory, 1; got 2")
    ):
        MODEL.decode(TGT_IN, memory[:1])
    block = DecoderBlock(8, 2, rng=0)
    with pytest.raises(
        ValueError, match=re.escape("memory must have the batch size of x, 2; got 1")
    ):
        block.forward(np.zeros((2, 4, 8)), np.zeros((1, 5, 8)))
    with pytest.raises(ValueError, match=re.escape("x must have shape [batch, T, 8]")):
        EncoderBlock(8, 2, rng=0).forward(np.zeros((2, 4, 7)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"bos_id": 9}, ValueError, "bos_id must be in [0, 9); got 9"),
        ({"eos_id": -1}, ValueError, "eos_id must be in [0, 9); got -1"),
        ({"bos_id": 1.0}, TypeError, "bos_id must be an int target id; got float"),
        ({"max_len": 5}, ValueError, "max_len must be at most tgt_block_size = 4; got 5"),
        ({"max_len": 0}, ValueError, "max_len must be a positive int; got 0"),
    ],
)
def test_bad_greedy_decode_arguments_are_refused(kwargs, error, message):
    arguments = {"bos_id": 0, "eos_id": 8, "max_len": 3} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        MODEL.greedy_decode(SRC, **arguments)
