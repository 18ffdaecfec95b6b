"""The training command for the encoder-decoder of chapter 16: numbers in digits -> words.

A tiny run learns and writes a checkpoint that loads back; a resumed run ends exactly as an
uninterrupted one; bad options are refused; and the committed checkpoint still translates
at least 95 % of its held-out numbers exactly right.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from conftest import ROOT

from companion.char_tokenizer import CharTokenizer
from companion.checkpoint import load_checkpoint, load_transformer_checkpoint, save_checkpoint
from companion.data.number_words import NumberWords, number_to_words
from companion.gpt import GPT, GPTConfig
from companion.train import (
    TrainOptions,
    exact_match,
    main,
    train_transformer,
    translation_loss,
)
from companion.transformer import Transformer, TransformerConfig

TASK = NumberWords(max_digits=2)
CONFIG = TransformerConfig(
    TASK.source.vocab_size,
    TASK.target.vocab_size,
    TASK.src_block_size,
    TASK.tgt_block_size,
    n_layer=1,
    n_head=2,
    n_embd=32,
)
QUICK = TrainOptions(
    batch_size=32,
    max_iters=150,
    learning_rate=1e-2,
    warmup_iters=10,
    eval_interval=50,
    eval_iters=2,
    weight_decay=0.01,
    seed=0,
)
COMMITTED = ROOT / "checkpoints" / "transformer_number_words.npz"


def without_time(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "elapsed"} for record in history]


def test_a_tiny_run_learns_two_digit_numbers_and_saves_a_checkpoint(tmp_path):
    options = dataclasses.replace(QUICK, out_dir=str(tmp_path), name="tiny")
    history = train_transformer(CONFIG, options, task=TASK, n_test=10)
    assert [r["step"] for r in history] == [0, 50, 100, 150]
    assert history[0]["val_accuracy"] == 0.0
    assert history[0]["train_loss"] > 0.9 * np.log(TASK.target.vocab_size)  # about a guess
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    lines = (tmp_path / "tiny.history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == history
    model, (source, target), info = load_transformer_checkpoint(tmp_path / "tiny.npz")
    assert isinstance(model, Transformer) and info["optimizers"] == []
    assert source.alphabet == TASK.source.alphabet and target.alphabet == TASK.target.alphabet
    assert info["extra"]["task"] == {"name": "number_words", "max_digits": 2, "n_test": 10}
    _, test = TASK.split(10, seed=QUICK.seed)  # the held-out numbers of the run
    assert exact_match(model, TASK, test) == history[-1]["val_accuracy"]
    assert info["extra"]["val_accuracy"] == history[-1]["val_accuracy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tiny.history.jsonl",
        "tiny.npz",
        "tiny.resume.npz",
    ]


def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(tmp_path):
    whole = dataclasses.replace(QUICK, max_iters=40, eval_interval=20, out_dir=str(tmp_path / "a"))
    whole = dataclasses.replace(whole, lr_decay_iters=40)
    first = dataclasses.replace(whole, max_iters=20, out_dir=str(tmp_path / "b"))
    history_whole = train_transformer(CONFIG, whole, task=TASK, n_test=10)
    train_transformer(CONFIG, first, task=TASK, n_test=10)
    resumed = dataclasses.replace(first, max_iters=40, resume=str(tmp_path / "b/ckpt.resume.npz"))
    history_resumed = train_transformer(CONFIG, resumed, task=TASK, n_test=10)
    assert without_time(history_resumed) == without_time(history_whole)
    a, _, _ = load_transformer_checkpoint(tmp_path / "a" / "ckpt.npz")
    b, _, _ = load_transformer_checkpoint(tmp_path / "b" / "ckpt.npz")
    for name, p in a.parameters().items():
        assert np.array_equal(b.parameters()[name], p), name
    other = dataclasses.replace(resumed, max_iters=60)
    with pytest.raises(ValueError, match=re.escape("the task must be the checkpoint's to resume")):
        train_transformer(CONFIG, other, task=TASK, n_test=11)


def test_exact_match_and_the_loss_are_those_of_greedy_decoding():
    model = Transformer(CONFIG, rng=0)
    numbers = np.arange(12)
    written = model.greedy_decode(TASK.sources(numbers), TASK.bos, TASK.eos, TASK.tgt_block_size)
    by_hand = np.mean(
        [
            TASK.target.decode(w) == number_to_words(int(n))
            for w, n in zip(written, numbers, strict=True)
        ]
    )
    assert exact_match(model, TASK, numbers, chunk=5) == by_hand
    loss = translation_loss(model, TASK, numbers, batch_size=4, eval_iters=2, seed=1)
    assert loss == translation_loss(model, TASK, numbers, batch_size=4, eval_iters=2, seed=1)
    assert loss > 0.9 * np.log(TASK.target.vocab_size)  # an untrained model guesses


def test_the_command_line_trains_and_resumes_a_transformer(tmp_path, capsys):
    args = ["--model", "transformer", "--max-digits", "2", "--n-test", "5", "--n-layer", "1"]
    args += ["--n-embd", "16", "--n-head", "2", "--batch-size", "4", "--eval-iters", "1"]
    args += ["--warmup-iters", "1", "--lr-decay-iters", "4", "--eval-interval", "2"]
    args += ["--no-progress", "--out-dir", str(tmp_path), "--name", "t"]
    history = main([*args, "--max-iters", "2"])
    assert [r["step"] for r in history] == [0, 2] and "val_accuracy" in history[-1]
    resume = ["--model", "transformer", "--resume", str(tmp_path / "t.resume.npz")]
    resume += ["--no-progress", "--out-dir", str(tmp_path), "--name", "t", "--max-iters", "4"]
    assert [r["step"] for r in main(resume)] == [0, 2, 4]
    assert "held-out exact match" in capsys.readouterr().out
    with pytest.raises(ValueError, match=re.escape("--max-digits must be the checkpoint's (2)")):
        main([*resume, "--max-digits", "3"])
    with pytest.raises(ValueError, match=re.escape("--n-embd must be the checkpoint's (16)")):
        main([*resume, "--n-embd", "32"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "transformer", "--block-size", "8"], "--block-size is only for --model gpt"),
        (["--model", "transformer", "--no-bias"], "--bias is only for --model gpt"),
        (["--model", "transformer", "--tokenizer", "char"], "--tokenizer is only for --model gpt"),
        (["--max-digits", "3"], "--max-digits is only for --model transformer"),
        (["--n-test", "3"], "--n-test is only for --model transformer"),
        (["--model", "transformer", "--max-digits", "9"], "max_digits must be at most 6"),
        (["--model", "transformer", "--n-embd", "30"], "n_embd must be divisible by n_head"),
    ],
)
def test_the_command_refuses_options_of_the_other_model(args, message, tmp_path):
    with pytest.raises(ValueError, match=re.escape(message)):
        main([*args, "--out-dir", str(tmp_path), "--max-iters", "1", "--no-progress"])


def test_bad_arguments_to_train_transformer_are_refused(tmp_path):
    with pytest.raises(TypeError, match=re.escape("config must be a TransformerConfig; got")):
        train_transformer(GPTConfig(5, 4, 1, 1, 4), QUICK, task=TASK)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("options must be a TrainOptions; got")):
        train_transformer(CONFIG, {"max_iters": 1}, task=TASK)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("task must be a NumberWords; got")):
        train_transformer(CONFIG, QUICK, task="numbers")  # type: ignore[arg-type]
    wide = dataclasses.replace(CONFIG, tgt_block_size=40)
    message = f"config.tgt_block_size must be the task's, {TASK.tgt_block_size}; got 40"
    with pytest.raises(ValueError, match=re.escape(message)):
        train_transformer(wide, QUICK, task=TASK)
    with pytest.raises(ValueError, match=re.escape("n_test must be below the 100 numbers")):
        train_transformer(CONFIG, QUICK, task=TASK, n_test=100)
    with pytest.raises(TypeError, match=re.escape("model must be a Transformer; got")):
        exact_match(GPT(GPTConfig(5, 4, 1, 1, 4), rng=0), TASK, [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("numbers must hold at least one number")):
        exact_match(Transformer(CONFIG, rng=0), TASK, [])


def test_checkpoints_of_the_two_kinds_are_not_mixed_up(tmp_path):
    model = Transformer(CONFIG, rng=0)
    pair = (TASK.source, TASK.target)
    path = save_checkpoint(tmp_path / "t.npz", model, tokenizer=pair, step=3)
    with pytest.raises(ValueError, match=re.escape("read it with load_transformer_checkpoint")):
        load_checkpoint(path)
    loaded, _, info = load_transformer_checkpoint(path, dtype=np.float64)
    assert info["step"] == 3 and loaded.dtype == np.float64
    gpt = GPT(GPTConfig(vocab_size=3, block_size=4, n_layer=1, n_head=1, n_embd=4), rng=0)
    gpt_path = save_checkpoint(tmp_path / "g.npz", gpt, tokenizer=CharTokenizer("abc"), step=0)
    with pytest.raises(ValueError, match=re.escape("kind 'gpt'; expected 'transformer'")):
        load_transformer_checkpoint(gpt_path)
    with pytest.raises(TypeError, match=re.escape("tokenizer must be a pair (source, target)")):
        save_checkpoint(tmp_path / "x.npz", model, tokenizer=TASK.target, step=0)
    message = "tokenizer[1] (the target) must have the model's vocabulary size 24; got a"
    with pytest.raises(ValueError, match=re.escape(message)):
        save_checkpoint(tmp_path / "x.npz", model, tokenizer=(TASK.source, TASK.source), step=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz", "t.npz"]


# -- the committed checkpoint --------------------------------------------------------------


@pytest.mark.skipif(not COMMITTED.is_file(), reason="checkpoints/ not present")
def test_the_committed_transformer_translates_its_held_out_numbers():
    model, (source, target), info = load_transformer_checkpoint(COMMITTED)
    task_info = info["extra"]["task"]
    task = NumberWords(task_info["max_digits"])
    assert task_info == {"name": "number_words", "max_digits": 6, "n_test": 1000}
    assert source.alphabet == task.source.alphabet and target.alphabet == task.target.alphabet
    train_numbers, test_numbers = task.split(
        task_info["n_test"], info["extra"]["run_options"]["seed"]
    )
    accuracy = exact_match(model, task, test_numbers)  # numbers it never trained on
    assert accuracy >= 0.95
    assert accuracy == info["extra"]["val_accuracy"]
    src = task.sources([4127, 900_017])
    written = model.greedy_decode(src, task.bos, task.eos, task.tgt_block_size)
    assert [target.decode(w) for w in written] == [number_to_words(4127), number_to_words(900_017)]
