import pytest

from fwlib.pipeline.catalog import planned_configs
from fwlib.run.config import RunConfig
from fwlib.tasks import task_class
from fwlib.tasks.catch import CatchTask
from fwlib.tasks.catch.plans import parse_version, per_key, train_runs

BASE = dict(games=["N16_M3", "N24_M5"], agents=["fast_weights", "lstm"],
            observed_games=["N16_full"], observed_agents=["fast_weights"], seeds=[0, 1],
            hidden_units=32, max_frames={"default": 100_000, "N24_M5": 200_000},
            learning_rate={"default": 0.003, "lstm@N24_M5": 0.001}, eval_every=50_000)


def test_the_task_is_registered_after_the_supervised_ones():
    from fwlib.tasks import TASKS

    assert list(TASKS)[-1] == "catch" and task_class("catch") is CatchTask


def test_games_are_parsed_by_name():
    assert parse_version("N16_M3") == CatchTask(size=16, visible_frames=3)
    assert parse_version("N24_full") == CatchTask(size=24, visible_frames=None)
    assert parse_version("N16_M3").version == "N16_M3"
    with pytest.raises(ValueError, match="games must be named"):
        parse_version("16x3")


def test_the_grid_covers_games_agents_controls_and_seeds():
    configs = train_runs(**BASE)
    assert len(configs) == (2 * 2 + 1) * 2
    by = {(c.task.version, c.model.kind, c.seed): c for c in configs}
    assert by[("N24_M5", "lstm", 1)].optim.learning_rate == 0.001
    assert by[("N24_M5", "fast_weights", 0)].budget.max_steps == 200_000
    assert by[("N16_full", "fast_weights", 0)].task.visible_frames is None
    assert len({c.run_name() for c in configs}) == len(configs)
    # the config survives its JSON form
    config = by[("N16_full", "fast_weights", 0)]
    assert RunConfig.from_dict(config.to_dict()).run_id() == config.run_id()


@pytest.mark.parametrize(("change", "message"), [
    ({"agents": ["gru"]}, "agents must be among"),
    ({"observed_games": ["N16_M3"]}, "observed_games must be fully observed"),
    ({"games": ["N2_M1"]}, "size must be"),
    ({"max_frames": {"N16_M3": 100_000}}, "max_frames has no value"),
    ({"max_frames": 120_000}, "max_steps must be a multiple"),
    ({"hidden_units": 0}, "hidden_units"),
    ({"games": [], "observed_games": []}, "plans no run")])
def test_bad_parameters_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        train_runs(**(BASE | change))


def test_per_key_prefers_the_most_specific_key():
    values = {"default": 1, "N16_M3": 2, "lstm": 3, "lstm@N16_M3": 4}
    assert per_key(values, "x", "lstm", "N16_M3") == 4
    assert per_key(values, "x", "lstm", "N24_M5") == 3
    assert per_key(values, "x", "irnn", "N16_M3") == 2
    assert per_key(values, "x", "irnn", "N24_M5") == 1
    assert per_key(5, "x", "irnn", "N24_M5") == 5


def test_the_pipeline_plans_the_notebooks_runs_from_its_defaults():
    configs = planned_configs("catch/01_train", {"seeds": [0, 1, 2]})
    assert {c.seed for c in configs} == {0, 1, 2}
    assert {c.task.version for c in configs} == {"N16_M3", "N24_M5", "N16_full"}
