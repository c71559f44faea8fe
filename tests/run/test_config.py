"""What makes two runs the same."""

import dataclasses
import json
from dataclasses import replace

import pytest

from fwlib.cores import CoreSpec
from fwlib.run.config import Budget, OptimSpec, RunConfig
from fwlib.tasks.associative import AssociativeTask

BASE = RunConfig(task=AssociativeTask(), model=CoreSpec("fast_weights", 20))


def test_round_trip_through_json():
    config = replace(BASE, labels={"study": "decay"}, seed=3)
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.run_name() == config.run_name()


def test_budget_and_labels_are_not_part_of_the_identity():
    longer = replace(BASE, budget=Budget(max_steps=90_000, patience=20_000, eval_every=1000),
                     labels={"study": "x"})
    assert longer.run_id() == BASE.run_id() and longer.run_name() == BASE.run_name()


@pytest.mark.parametrize("change", [
    {"model": CoreSpec("fast_weights", 50)}, {"model": CoreSpec("fast_weights", 20, decay=0.9)},
    {"model": CoreSpec("lstm", 20)}, {"optim": OptimSpec(learning_rate=0.003)},
    {"optim": OptimSpec(batch_size=64)}, {"optim": OptimSpec(lr_half_life=5000)},
    {"task": AssociativeTask(num_pairs=6)},
    {"task": AssociativeTask(data_seed=1)}, {"seed": 1},
])
def test_what_the_run_learns_from_is_part_of_the_identity(change):
    assert replace(BASE, **change).run_id() != BASE.run_id()


def test_settings_a_kind_does_not_read_do_not_tell_its_runs_apart():
    lstm = replace(BASE, model=CoreSpec("lstm", 20))
    assert replace(lstm, model=CoreSpec("lstm", 20, decay=0.5, fast_lr=2.0)).run_id() \
        == lstm.run_id()
    alstm = replace(BASE, model=CoreSpec("alstm", 20))
    assert replace(alstm, model=CoreSpec("alstm", 20, num_copies=8)).run_id() != alstm.run_id()


def test_the_identity_does_not_depend_on_the_defaults_of_the_day(monkeypatch):
    """Names are not made relative to the defaults: a run asked for with every value written
    out is the same run, whatever the defaults are."""
    explicit = RunConfig.from_dict(BASE.to_dict())
    assert explicit.run_id() == BASE.run_id()
    assert BASE.run_name().startswith("fast_weights_R20_seed0_")


def test_a_neutral_new_setting_keeps_earlier_identities():
    @dataclasses.dataclass(frozen=True)
    class LaterCore(CoreSpec):
        fast_lr_scale: float = 1.0
        NEUTRAL = {"fast_lr_scale": 1.0}

    later = replace(BASE, model=LaterCore("fast_weights", 20))
    assert later.run_id() == BASE.run_id()
    assert replace(BASE, model=LaterCore("fast_weights", 20, fast_lr_scale=0.5)).run_id() \
        != BASE.run_id()


def test_a_constant_step_size_keeps_the_identity_runs_had_before_the_decay_existed():
    assert "lr_half_life" not in BASE.identity()["optim"]
    assert OptimSpec().keras_learning_rate() == 1e-3


def test_the_step_size_halves_every_half_life():
    schedule = OptimSpec(learning_rate=4e-3, lr_half_life=100).keras_learning_rate()
    assert [round(float(schedule(step)), 9) for step in (0, 100, 200, 50)] == \
        [0.004, 0.002, 0.001, round(0.004 * 0.5 ** 0.5, 9)]


@pytest.mark.parametrize("value", [-1, 2.5, True])
def test_a_bad_half_life_is_named(value):
    with pytest.raises(ValueError, match="lr_half_life must be a non-negative integer"):
        OptimSpec(lr_half_life=value).validate()


def test_no_weight_decay_keeps_the_identity_runs_had_before_it_existed():
    assert "weight_decay" not in BASE.identity()["optim"]
    decayed = replace(BASE, optim=OptimSpec(weight_decay=0.01))
    assert decayed.identity()["optim"]["weight_decay"] == 0.01
    assert decayed.run_id() != BASE.run_id()
    assert RunConfig.from_dict(decayed.to_dict()).run_id() == decayed.run_id()


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.1", True, float("nan")])
def test_a_bad_weight_decay_is_named(value):
    with pytest.raises(ValueError, match=r"weight_decay must be a number in \[0, 1\)"):
        OptimSpec(weight_decay=value).validate()
