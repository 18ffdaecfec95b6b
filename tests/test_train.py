"""The training loop and the command ``python -m companion.train``.

A tiny run learns and writes its files; an interrupted or resumed run ends exactly as an
uninterrupted one; the command reports every mistake in one line; and the committed
checkpoints still do what their histories say, as the same run in PyTorch did.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal

import numpy as np
import pytest
from conftest import ROOT

from companion import (
    GPT,
    CharTokenizer,
    GPTConfig,
    TransformerConfig,
    get_batch,
    load_checkpoint,
    nursery_rhymes,
    tiny_shakespeare,
    train_val_split,
)
from companion.data.number_words import NumberWords
from companion.train.cli import main, run
from companion.train.loop import Interrupted, TrainOptions, train
from companion.train.runs import exact_match, gpt_run, mean_loss, transformer_run

TEXT = nursery_rhymes()
TOKENIZER = CharTokenizer.from_text(TEXT)
CONFIG = GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16)
QUICK = TrainOptions(
    batch_size=4,
    max_iters=60,
    learning_rate=1e-2,
    warmup_iters=5,
    eval_interval=20,
    eval_iters=4,
    seed=0,
)
TINY_CLI = ["--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--block-size", "8"]
TINY_CLI += ["--batch-size", "2", "--eval-iters", "1", "--warmup-iters", "1", "--no-progress"]
GPT_FILE = ROOT / "checkpoints" / "baby_gpt_shakespeare_char.npz"
TRANSFORMER_FILE = ROOT / "checkpoints" / "transformer_number_words.npz"


def tiny_run(options: TrainOptions = QUICK, config: GPTConfig = CONFIG):
    return gpt_run(
        config,
        TEXT,
        TOKENIZER,
        batch_size=options.batch_size,
        eval_iters=options.eval_iters,
        seed=options.seed,
    )


def without_time(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "elapsed"} for record in history]


# -- the loop --------------------------------------------------------------------------------


def test_a_tiny_run_learns_and_writes_its_three_files(tmp_path):
    options = dataclasses.replace(QUICK, out_dir=str(tmp_path), name="tiny")
    history = train(tiny_run(options), options)
    assert [r["step"] for r in history] == [0, 20, 40, 60]
    # an untrained model spreads its probability evenly: loss log(V)
    assert history[0]["val_loss"] == pytest.approx(math.log(CONFIG.vocab_size), abs=0.1)
    assert history[-1]["val_loss"] < history[0]["val_loss"] - 0.5
    assert history[0]["lr"] == pytest.approx(1e-2 / 5)  # the first of 5 warm-up steps
    assert history[-1]["lr"] == pytest.approx(1e-3)  # min_lr = lr / 10 at the end
    lines = (tmp_path / "tiny.history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == history
    model, tokenizer, info = load_checkpoint(tmp_path / "tiny.npz")
    assert info["optimizers"] == [] and info["step"] == 60  # the final model: weights only
    assert load_checkpoint(tmp_path / "tiny.resume.npz")[2]["optimizers"][0]["t"] == 60
    assert tokenizer.alphabet == TOKENIZER.alphabet
    # the recorded loss is the mean over the run's fixed validation batches, by hand:
    _, val = train_val_split(np.array(TOKENIZER.encode(TEXT)))
    rng = np.random.default_rng(QUICK.seed + 3)
    by_hand = np.mean([model(*get_batch(val, 4, 16, rng))[1] for _ in range(4)])
    assert by_hand == pytest.approx(history[-1]["val_loss"], abs=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tiny.history.jsonl",
        "tiny.npz",
        "tiny.resume.npz",
    ]


def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(tmp_path):
    config = dataclasses.replace(CONFIG, dropout=0.1)  # the dropout masks must resume too
    whole = dataclasses.replace(QUICK, max_iters=40, lr_decay_iters=40, out_dir=str(tmp_path / "a"))
    first = dataclasses.replace(whole, max_iters=20, out_dir=str(tmp_path / "b"))
    history_whole = train(tiny_run(whole, config), whole)
    train(tiny_run(first, config), first)
    model, _, info = load_checkpoint(tmp_path / "b" / "ckpt.resume.npz")
    resumed = dataclasses.replace(first, max_iters=40)
    run_b = gpt_run(config, TEXT, TOKENIZER, batch_size=4, eval_iters=4, seed=0, model=model)
    history_resumed = train(run_b, resumed, resumed=info)
    assert without_time(history_resumed) == without_time(history_whole)
    a, _, info_a = load_checkpoint(tmp_path / "a" / "ckpt.npz")
    b, _, info_b = load_checkpoint(tmp_path / "b" / "ckpt.npz")
    for name, p in a.parameters().items():
        assert np.array_equal(b.parameters()[name], p), name


def test_ctrl_c_stops_after_a_whole_step_and_the_run_resumes_exactly(tmp_path):
    whole = dataclasses.replace(QUICK, max_iters=30, out_dir=str(tmp_path / "a"))
    history_whole = train(tiny_run(whole), whole)

    def ctrl_c_at_step_7(step: int, loss: float) -> None:
        if step == 7:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C sends

    cut = dataclasses.replace(whole, out_dir=str(tmp_path / "b"))
    with pytest.raises(Interrupted, match="stopped after step 7; continue with --resume"):
        train(tiny_run(cut), cut, on_step=ctrl_c_at_step_7)
    model, _, info = load_checkpoint(tmp_path / "b" / "ckpt.resume.npz")
    assert info["step"] == 7
    run_b = gpt_run(CONFIG, TEXT, TOKENIZER, batch_size=4, eval_iters=4, seed=0, model=model)
    assert without_time(train(run_b, cut, resumed=info)) == without_time(history_whole)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_a_resume_after_a_kill_during_the_final_write_writes_the_final_model(tmp_path):
    main([*TINY_CLI, "--max-iters", "4", "--eval-interval", "2", "--out-dir", str(tmp_path)])
    (tmp_path / "ckpt.npz").unlink()  # killed after the resume file, before the final one
    (tmp_path / ".ckpt.npz.x1y2.tmp").write_bytes(b"half a file")  # and its temporary file
    history = main(["--resume", str(tmp_path / "ckpt.resume.npz")] + ["--no-progress"])
    assert history[-1]["step"] == 4
    final, _, info = load_checkpoint(tmp_path / "ckpt.npz")
    assert info["step"] == 4
    assert not list(tmp_path.glob(".*.tmp"))  # the killed run's temporary file is gone


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_stops_with_a_clear_error():
    options = dataclasses.replace(QUICK, learning_rate=1e30, max_iters=20, grad_clip=0.0)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train(tiny_run(options), options)


def test_mean_loss_is_measured_without_dropout_and_leaves_the_mode():
    model = GPT(dataclasses.replace(CONFIG, dropout=0.5), rng=0)
    data = np.array(TOKENIZER.encode(TEXT))
    batches = [get_batch(data, 3, 16, np.random.default_rng(5)) for _ in range(2)]
    assert mean_loss(model, batches) == mean_loss(model, batches)  # no random masks
    assert model.training


def test_bad_options_are_refused_with_the_option_named():
    with pytest.raises(ValueError, match="lr_decay_iters must be an int >= 101"):
        TrainOptions(max_iters=50)  # the decay would end before the warm-up
    with pytest.raises(ValueError, match="min_lr must be a finite number >= 0 and <= 0.001"):
        TrainOptions(min_lr=0.01)
    with pytest.raises(ValueError, match="name must be a file name without '/'"):
        TrainOptions(name="a/b")


# -- the command line ----------------------------------------------------------------------


def test_the_command_trains_and_resumes_beside_the_resume_file(tmp_path, capsys):
    out = tmp_path / "runs"
    history = main([*TINY_CLI, "--max-iters", "2", "--eval-interval", "2", "--out-dir", str(out)])
    assert [r["step"] for r in history] == [0, 2]
    assert "step 2: train loss" in capsys.readouterr().out
    resumed = main(["--resume", str(out / "ckpt.resume.npz"), "--max-iters", "4", "--no-progress"])
    assert [r["step"] for r in resumed] == [0, 2, 4]  # eval_interval 2 kept from the run
    assert load_checkpoint(out / "ckpt.npz")[2]["step"] == 4  # beside the file, not ./out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-embd", "30", "--n-head", "4"], "n_embd must be divisible by n_head"),
        (["--block-size", "200000"], "block_size must be shorter than the validation text"),
        (["--max-digits", "3"], "--max-digits is only for --model transformer"),
        (["--model", "transformer", "--dropout", "0.1"], "--dropout is only for --model gpt"),
        (["--vocab-size", "300"], "--vocab-size is only for --tokenizer bpe"),
        (["--resume", "no/such/file.resume.npz"], "no checkpoint file at no/such/file"),
    ],
)
def test_the_command_reports_a_mistake_in_one_line(args, message, tmp_path, capsys):
    assert run([*args, "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m companion.train: error: ") and message in err
    assert err.count("\n") == 1  # one line, no traceback


def test_an_out_dir_that_is_a_file_or_not_writable_is_reported_in_one_line(
    tmp_path, capsys, monkeypatch
):
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    args = [*TINY_CLI, "--max-iters", "2", "--eval-interval", "2"]
    assert run([*args, "--out-dir", str(a_file)]) == 2
    assert f"out_dir {a_file} is a file" in capsys.readouterr().err

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked"))

    monkeypatch.setattr("companion.files.tempfile.mkstemp", refuse)
    assert run([*args, "--out-dir", str(tmp_path / "locked")]) == 2
    err = capsys.readouterr().err
    assert "Permission denied" in err and err.count("\n") == 1


def test_ctrl_c_in_the_command_saves_and_says_how_to_continue(tmp_path, capsys, monkeypatch):
    import companion.train.loop as loop

    real_step = loop.train_step

    def step_then_ctrl_c(*args: object) -> float:
        signal.raise_signal(signal.SIGINT)
        return real_step(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "train_step", step_then_ctrl_c)
    assert run([*TINY_CLI, "--max-iters", "4", "--out-dir", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    resume = tmp_path / "ckpt.resume.npz"
    assert err == (
        f"python -m companion.train: interrupted: stopped after step 1; continue with "
        f"--resume {resume}\n"
    )
    assert load_checkpoint(resume)[2]["step"] == 1


def test_the_command_trains_a_transformer_and_a_gpt_with_bpe(tmp_path):
    args = ["--model", "transformer", "--max-digits", "2", "--n-test", "10", "--n-layer", "1"]
    args += ["--n-embd", "16", "--n-head", "2", "--batch-size", "4", "--eval-iters", "1"]
    args += ["--warmup-iters", "1", "--max-iters", "2", "--eval-interval", "2", "--no-progress"]
    history = main([*args, "--out-dir", str(tmp_path), "--name", "t"])
    assert 0 <= history[-1]["val_accuracy"] <= 1
    _, (source, target), info = load_checkpoint(tmp_path / "t.npz")
    assert info["kind"] == "transformer" and source.decode(source.encode("42")) == "42"
    bpe = ["--tokenizer", "bpe", "--vocab-size", "260", *TINY_CLI, "--max-iters", "2"]
    main([*bpe, "--eval-interval", "2", "--out-dir", str(tmp_path), "--name", "bpe"])
    _, tokenizer, info = load_checkpoint(tmp_path / "bpe.npz")
    assert tokenizer.vocab_size == 260 == info["config"]["vocab_size"]
    assert info["config"]["bias"] is False  # nanoGPT's default


# -- the Transformer's run ---------------------------------------------------------------------


def test_a_tiny_transformer_run_learns_and_counts_exact_matches_by_greedy_decoding():
    task = NumberWords(max_digits=2)
    config = TransformerConfig(
        task.source.vocab_size,
        task.target.vocab_size,
        task.src_block_size,
        task.tgt_block_size,
        1,
        2,
        32,
    )
    options = TrainOptions(
        batch_size=32,
        max_iters=150,
        learning_rate=1e-2,
        warmup_iters=10,
        eval_interval=150,
        eval_iters=2,
        seed=0,
        weight_decay=0.0,
    )
    run_ = transformer_run(config, task, n_test=10, batch_size=32, eval_iters=2, seed=0)
    history = train(run_, options)
    assert history[-1]["val_loss"] < history[0]["val_loss"] - 1.0
    _, test_numbers = task.split(10, 0)
    written = run_.model.greedy_decode(
        task.sources(test_numbers), task.bos, task.eos, task.tgt_block_size
    )
    right = [
        task.target.decode(ids) == task.answer(int(n))
        for ids, n in zip(written, test_numbers, strict=True)
    ]
    assert exact_match(run_.model, task, test_numbers) == np.mean(right)
    assert history[-1]["val_accuracy"] == np.mean(right)


# -- the committed checkpoints -------------------------------------------------------------


@pytest.mark.skipif(not GPT_FILE.is_file(), reason="checkpoints/ not present")
def test_the_committed_baby_gpt_is_the_run_its_history_records():
    model, tokenizer, info = load_checkpoint(GPT_FILE)
    assert info["config"] == {
        "vocab_size": 65,
        "block_size": 64,
        "n_layer": 4,
        "n_head": 4,
        "n_embd": 128,
        "dropout": 0.0,
        "bias": False,
    }
    assert model.n_parameters == 804_096 and info["step"] == 2000
    history = [json.loads(line) for line in GPT_FILE.with_suffix(".history.jsonl").open()]
    assert info["extra"]["val_loss"] == history[-1]["val_loss"]
    # the first 20 of the run's 200 fixed validation batches: a noisier mean of the same
    _, val = train_val_split(np.array(tokenizer.encode(tiny_shakespeare()), dtype=np.int64))
    rng = np.random.default_rng(info["extra"]["options"]["seed"] + 3)  # the run's batches
    loss = np.mean([model(*get_batch(val, 12, 64, rng))[1] for _ in range(20)])
    assert loss == pytest.approx(history[-1]["val_loss"], abs=0.03)
    assert loss < math.log(65) / 2  # far better than guessing among 65 characters


@pytest.mark.skipif(not GPT_FILE.is_file(), reason="checkpoints/ not present")
def test_the_committed_baby_gpt_writes_greedily_as_a_hand_written_loop_does():
    model, tokenizer, _ = load_checkpoint(GPT_FILE)
    ids = tokenizer.encode("ROMEO:\n")
    for _ in range(20):  # greedy decoding by hand: the most likely next character
        logits, _ = model(np.array([ids[-64:]]))
        ids.append(int(logits[0, -1].argmax()))
    assert model.complete(tokenizer, "ROMEO:\n", 20, temperature=0) == tokenizer.decode(ids)


@pytest.mark.skipif(not GPT_FILE.is_file(), reason="checkpoints/ not present")
def test_the_committed_run_matches_the_same_run_in_pytorch_at_every_evaluation():
    """benchmarks/train_torch_reference.py repeated the run in PyTorch (same weights, batches)."""
    ours = [json.loads(line) for line in GPT_FILE.with_suffix(".history.jsonl").open()]
    theirs = [json.loads(line) for line in GPT_FILE.with_suffix(".pytorch.jsonl").open()]
    assert [r["step"] for r in ours] == [r["step"] for r in theirs] == list(range(0, 2001, 250))
    for a, b in zip(ours, theirs, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-4), a["step"]
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-4), a["step"]


@pytest.mark.skipif(not TRANSFORMER_FILE.is_file(), reason="checkpoints/ not present")
def test_the_committed_transformer_writes_its_held_out_numbers_in_words():
    model, _, info = load_checkpoint(TRANSFORMER_FILE)
    task = NumberWords(info["extra"]["task"]["max_digits"])
    _, held_out = task.split(info["extra"]["task"]["n_test"], info["extra"]["options"]["seed"])
    accuracy = exact_match(model, task, held_out)  # all 1,000 numbers it never trained on
    assert accuracy == info["extra"]["val_accuracy"] and accuracy >= 0.95
